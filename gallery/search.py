"""Prompt search. PLACEHOLDER: being replaced by the FTS5 / pg_trgm implementation."""

from django.db.models import Q, QuerySet


def search_images[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    return images.filter(Q(prompt__icontains=text) | Q(revised_prompt__icontains=text))
