"""What images cost.

- `rules`: a price rule (per image or per token), checked, and what a request should cost
  (estimate) and did cost (from `usage`); the rules sit beside each model's schema
  (`ImageModel.price`).
- `catalogue_prices`: CometAPI's catalogue prices as rules (the model sync writes them).
- `ledger`: a job's estimate at submit and its actual cost once the upstream answered.
- `budgets`: each person's limits, checked before a job is queued.
- `estimates`: what a form as it stands would cost (the estimate partial).
- `usage`, `charts`: spend and images per day, and their SVG charts (the usage page).
- `money`: amounts and rules as people read them.
"""
