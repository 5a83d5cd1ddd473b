"""What images cost: price rules (rules.py), the ledger of estimated and actual costs
(ledger.py), budgets and limits checked before a job is queued (budgets.py), and amounts as
people read them (money.py). The rules sit beside each model's schema (`ImageModel.price`)."""
