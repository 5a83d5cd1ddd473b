"""PostgreSQL: plan a query over one person's images as reading their own rows.

A person's images are spread through the table among everyone else's, so the statistics say
that the (owner, -id) index leads to rows in no order on disk (correlation 0.01), while the
primary key leads to them in order (1.0). At the default `random_page_cost` of 4 the planner
then prefers to read the primary key backwards, every person's rows, and keep this person's:
`watercolour cat` read 64,000 rows to find 61 (39 ms), where the person's own index reads
6,900 (19 ms); `قطة` 15 against 3 ms (bench/README.md). With the table in memory or on an SSD a
random read costs about what a sequential one does, which `random_page_cost = 1.1` tells the
planner, for the one transaction only (SET LOCAL: nothing leaks to other queries, and it works
through a connection pooler). A server configured so for every query needs none of this.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction

RANDOM_PAGE_COST = "1.1"


@contextmanager
def person_rows_planned(using: str) -> Iterator[None]:
    """Queries run inside are planned with reads of rows anywhere costed as in memory."""
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
        yield
