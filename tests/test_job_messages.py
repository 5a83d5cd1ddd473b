"""A job's error message is stored in English and shown in the language of whoever reads it."""

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from imagegen.job_messages import (
    DOWNLOAD_FAILED,
    DOWNLOAD_HOST_STATUS,
    MODEL_GONE,
    MODEL_GONE_USE,
    REJECTED_WITH_REASON,
    TEMPLATES,
    shown_message,
)
from imagegen.models import Generation
from imagegen.upstream_errors import MESSAGES


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """A request in another language leaves it active in this thread; later tests expect English."""
    yield
    translation.deactivate()


def test_a_known_message_is_shown_in_the_readers_language() -> None:
    with translation.override("ar"):
        shown = shown_message(MESSAGES["timeout"])
    assert shown == "لم تستجب خدمة الصور في الوقت المحدد. حاول مرة أخرى."


def test_english_readers_see_the_message_as_it_was_stored() -> None:
    with translation.override("en"):
        assert shown_message(MESSAGES["timeout"]) == MESSAGES["timeout"]


def test_a_message_with_details_is_translated_around_them() -> None:
    stored = REJECTED_WITH_REASON % {"detail": "Invalid size '1000x1000'."}
    with translation.override("ar"):
        shown = shown_message(stored)
    assert shown == "رفضت خدمة الصور الطلب: Invalid size '1000x1000'."


def test_details_that_are_known_messages_are_translated_too() -> None:
    reason = DOWNLOAD_HOST_STATUS % {"status": 418}
    stored = DOWNLOAD_FAILED % {"reason": reason}
    assert stored == "Could not download the image: the image host answered HTTP 418."
    with translation.override("ar"):
        assert shown_message(stored) == "تعذّر تنزيل الصورة: ردّ خادم الصورة برمز HTTP 418."
        reason = gettext_noop("it took too long")
        assert shown_message(DOWNLOAD_FAILED % {"reason": reason}) == (
            "تعذّر تنزيل الصورة: استغرق الأمر وقتًا طويلًا."
        )


@pytest.mark.parametrize("language", ["en", "ar", "ja"])
def test_a_gone_models_message_keeps_both_names_in_every_language(language: str) -> None:
    stored = MODEL_GONE_USE % {"model": "GPT Image 1.5", "replacement": "GPT Image 2.6 Sunburst"}
    assert stored == (
        "GPT Image 1.5 is no longer available from the image service; "
        "use GPT Image 2.6 Sunburst instead."
    )
    with translation.override(language):
        shown = shown_message(stored)
        alone = shown_message(MODEL_GONE % {"model": "DALL·E 3"})
    assert "GPT Image 1.5" in shown
    assert "GPT Image 2.6 Sunburst" in shown
    assert "DALL·E 3" in alone


def test_both_gone_model_messages_are_known_templates() -> None:
    assert {MODEL_GONE, MODEL_GONE_USE} <= set(TEMPLATES)


def test_an_unknown_or_empty_message_is_shown_as_it_is() -> None:
    with translation.override("ar"):
        assert shown_message("Something only the upstream says.") == (
            "Something only the upstream says."
        )
        assert shown_message("") == ""


def test_cancelling_in_arabic_stores_english_and_shows_each_reader_their_language(
    alice, alice_client: Client
) -> None:
    generation = Generation.objects.create(owner=alice, model_name="dall-e-3", prompt="a fox")
    alice_client.post(
        reverse("generation_cancel", args=[generation.pk]), headers={"accept-language": "ar"}
    )
    generation.refresh_from_db()
    assert generation.error_message == "Cancelled."
    page = reverse("generation", args=[generation.pk])
    assert "أُلغيت." in alice_client.get(page, headers={"accept-language": "ar"}).content.decode()
    assert "Cancelled." in alice_client.get(page).content.decode()
