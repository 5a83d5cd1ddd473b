"""The generate page's feed: every job a person made, newest first, a page at a time, narrowed
by status and model. The view draws it; infinite scroll asks for the next page's cards."""

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from gallery.models import Collection
from imagegen.models import Generation
from imagegen.models.jobs import UNFINISHED, queue_places

JOBS_PER_PAGE = 10
# What the status filter offers: "active" is every job not yet ended.
STATUS_FILTERS = {
    "active": (_("Queued or running"), UNFINISHED),
    "succeeded": (_("Done"), (Generation.Status.SUCCEEDED,)),
    "failed": (_("Failed"), (Generation.Status.FAILED,)),
    "cancelled": (_("Cancelled"), (Generation.Status.CANCELLED,)),
}


def own_collections(user: Any) -> list[Collection]:
    """The person's collections, for each result's "Add to collection"."""
    return list(Collection.objects.for_user(user).only("uuid", "name").order_by("name"))


@dataclass
class Feed:
    """One page of a person's jobs, and what the filter form needs to draw itself."""

    page: Page
    status: str
    model: str
    models: list[str]
    collections: list[Collection]

    @classmethod
    def of(cls, user: Any, query: QueryDict) -> "Feed":
        jobs = Generation.objects.for_user(user)
        models = sorted(set(jobs.values_list("model_name", flat=True).distinct()))
        status = query.get("status", "")
        if status in STATUS_FILTERS:
            jobs = jobs.filter(status__in=STATUS_FILTERS[status][1])
        else:
            status = ""  # an unknown filter shows everything rather than nothing
        model = query.get("model_filter", "")
        if model in models:
            jobs = jobs.filter(model_name=model)
        else:
            model = ""
        jobs = jobs.for_cards()
        page = Paginator(jobs, JOBS_PER_PAGE).get_page(query.get("page"))
        queue_places(page.object_list)
        return cls(page, status, model, models, own_collections(user))

    @property
    def status_choices(self) -> list[tuple[str, Any]]:
        return [(key, label) for key, (label, _statuses) in STATUS_FILTERS.items()]

    @property
    def has_unfinished(self) -> bool:
        """Whether a job on this page is still queued or running: only then does the page poll."""
        return any(not job.is_finished for job in self.page)

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.model)

    def query_for(self, page_number: int) -> str:
        """The query string of another page of this same feed."""
        query = QueryDict(mutable=True)
        if self.status:
            query["status"] = self.status
        if self.model:
            query["model_filter"] = self.model
        query["page"] = str(page_number)
        return query.urlencode()

    @property
    def next_query(self) -> str:
        return self.query_for(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def previous_query(self) -> str:
        return self.query_for(self.page.previous_page_number()) if self.page.has_previous() else ""
