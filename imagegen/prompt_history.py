"""A person's past prompts: distinct, newest first, with the model last used and when, found by
any part of their text (issue 11)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.urls import reverse
from django.utils.http import urlencode

from imagegen.models import Generation

PER_PAGE = 20
# Prompts are grouped from at most this many of the person's newest matching jobs, so a search
# costs the same for someone with 200,000 jobs as for someone with 2,000.
MOST_JOBS = 2000
LONGEST_QUERY = 200


@dataclass(frozen=True)
class PastPrompt:
    prompt: str
    model_name: str
    used_at: datetime

    @property
    def form_url(self) -> str:
        """The generate form with this prompt and its model (the link without JavaScript)."""
        query = urlencode({"prompt": self.prompt, "model": self.model_name})
        return f"{reverse('generate')}?{query}"


def past_prompts(user: Any, query: str = "", page: Any = 1) -> Page:
    """One page of the person's distinct prompts containing `query` (any case where the
    database folds it: SQLite folds ASCII only), newest use first."""
    jobs = Generation.objects.for_user(user)
    # No prompt holds a NUL byte (PostgreSQL refuses one in text): it is no part of a search.
    query = query.replace("\x00", "").strip()[:LONGEST_QUERY]
    if query:
        jobs = jobs.filter(prompt__icontains=query)
    newest = jobs.order_by("-created_at").values("pk")[:MOST_JOBS]
    grouped = (
        Generation.objects.filter(pk__in=newest)
        .values("prompt")
        .annotate(used_at=Max("created_at"))
        .order_by("-used_at", "prompt")
    )
    found = Paginator(grouped, PER_PAGE).get_page(page)
    # The model each prompt was last used with: one query for the whole page.
    rows = [(row["prompt"], row["used_at"]) for row in found.object_list]
    latest = Generation.objects.for_user(user).filter(
        prompt__in=[prompt for prompt, _ in rows], created_at__in=[used for _, used in rows]
    )
    models = {
        (g.prompt, g.created_at): g.model_name
        for g in latest.only("prompt", "created_at", "model_name")
    }
    found.object_list = [
        PastPrompt(prompt, models.get((prompt, used), ""), used) for prompt, used in rows
    ]
    return found
