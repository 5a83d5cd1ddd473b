"""One prompt sent to several models from the generate form: each model's own schema, shared
options carried over, the rest at each model's defaults, and one comparison holding the jobs."""

from typing import Any

from django.test import Client
from django.urls import reverse

from gallery.models import Comparison
from imagegen.forms.compare import MOST_OTHERS
from imagegen.models import Generation

URL = reverse("generate")
PLAN = reverse("comparison_plan")
HTMX = {"HX-Request": "true"}


def gpt(**values: Any) -> dict[str, Any]:
    return {
        "model": "gpt-image-2",
        "prompt": "a lighthouse at dusk",
        "size": "1536x1024",
        "n": 2,
        "quality": "high",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        **values,
    }


def test_three_models_from_one_submit_land_together_as_a_comparison(alice_client) -> None:
    data = gpt(compare_with=["qwen-image", "gpt-image-2.5-flare"])
    response = alice_client.post(URL, data)
    comparison = Comparison.objects.get()
    assert response.status_code == 302
    assert response["Location"] == comparison.get_absolute_url()
    entries = list(comparison.entries.order_by("position").select_related("generation"))
    assert [e.generation.model_name for e in entries] == [
        "gpt-image-2",
        "gpt-image-2.5-flare",  # the others in the picker's order
        "qwen-image",
    ]
    first, gpt25, qwen = (e.generation for e in entries)
    assert first.parameters["size"] == "1536x1024" and first.parameters["n"] == 2
    # Qwen draws one image at its own sizes and has no quality: its defaults.
    assert qwen.parameters == {"n": 1, "size": "1328x1328"}
    # What gpt-image-2.5-flare shares is carried over.
    assert gpt25.parameters["quality"] == "high"
    assert gpt25.parameters["size"] == "1536x1024"
    assert gpt25.parameters["n"] == 2
    assert {g.prompt for g in (first, qwen, gpt25)} == {"a lighthouse at dusk"}
    assert all(g.status == Generation.Status.SUCCEEDED for g in Generation.objects.all())
    assert comparison.owner.username == "alice"


def test_through_htmx_the_page_goes_to_the_comparison(alice_client) -> None:
    response = alice_client.post(URL, gpt(compare_with=["qwen-image"]), headers=HTMX)
    assert response["HX-Redirect"] == Comparison.objects.get().get_absolute_url()


def test_a_prompt_one_model_cannot_take_stops_the_whole_submit(alice_client) -> None:
    long_prompt = "a very long description " * 40  # 960 characters: Qwen takes 800
    response = alice_client.post(URL, gpt(prompt=long_prompt, compare_with=["qwen-image"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Qwen Image cannot take this request:" in page
    assert "800" in page
    assert not Generation.objects.exists() and not Comparison.objects.exists()
    assert long_prompt.strip()[:60] in page  # nothing typed is lost
    assert 'value="qwen-image" id="compare-' in page and "checked" in page


def test_references_a_model_cannot_take_stop_the_submit(alice_client, alice, make_image) -> None:
    reference = make_image(alice)
    data = gpt(reference=[str(reference.uuid)], compare_with=["qwen-image"])
    page = alice_client.post(URL, data).content.decode()
    assert "Qwen Image cannot take this request:" in page
    assert Generation.objects.count() == 1  # only make_image's own


def test_at_most_three_other_models(alice_client) -> None:
    others = [
        "qwen-image",
        "gpt-image-2.5-flare",
        "gpt-image-2.6-flare",
        "doubao-seedream-5-0-260128",
    ]
    assert len(others) > MOST_OTHERS
    page = alice_client.post(URL, gpt(compare_with=others)).content.decode()
    assert "Compare with at most 3 other models." in page
    assert not Generation.objects.exists()


def test_ticking_the_chosen_model_or_an_unknown_one_is_one_job(alice_client) -> None:
    response = alice_client.post(URL, gpt(compare_with=["gpt-image-2", "no-such-model"]))
    assert response.status_code == 302
    assert Generation.objects.count() == 1 and not Comparison.objects.exists()


def test_the_plan_says_what_each_model_receives(alice_client) -> None:
    data = gpt(compare_with=["qwen-image", "gpt-image-2.5-flare"])
    page = alice_client.post(PLAN, data, headers=HTMX).content.decode()
    assert "What each model receives" in page
    assert "GPT Image 2</strong>: " in page
    qwen = page[page.index("Qwen Image") :]
    qwen = qwen[: qwen.index("</li>")]
    assert "1328" in qwen
    assert "Its own default for: Size" in qwen
    # Nothing is made by asking.
    assert not Generation.objects.exists() and not Comparison.objects.exists()
    # A problem is shown in the plan, under the model it belongs to.
    page = alice_client.post(
        PLAN, gpt(prompt="x" * 900, compare_with=["qwen-image"]), headers=HTMX
    ).content.decode()
    assert 'class="error"' in page
    # Nothing ticked: nothing to say.
    assert alice_client.post(PLAN, gpt(), headers=HTMX).content.decode().strip() == ""


def test_the_plan_needs_a_signed_in_person_and_a_post(client: Client, alice_client) -> None:
    assert client.post(PLAN, gpt(compare_with=["qwen-image"])).status_code == 302
    assert alice_client.get(PLAN).status_code == 405
