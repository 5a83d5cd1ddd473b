"""Saved presets: saved from the generate form (checked by it, so nothing invalid is kept),
applied as the form's address, renamed and deleted on /presets/, each person's own; and the last
settings used, which a generate page opened afresh starts from."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from imagegen.models import Generation, Preset
from imagegen.presets import last_settings

pytestmark = pytest.mark.django_db

SAVE = reverse("preset_save")
LIST = reverse("preset_list")
GENERATE = reverse("generate")
HTMX = {"HX-Request": "true"}
GPT = {"model": "gpt-image-2", "prompt": "a paper boat", "size": "1024x1536", "n": "2",
       "quality": "high", "output_format": "webp", "output_compression": "80",
       "background": "auto", "moderation": "low"}  # fmt: skip


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def rename(preset: Preset) -> str:
    return reverse("preset_rename", args=[preset.pk])


def delete(preset: Preset) -> str:
    return reverse("preset_delete", args=[preset.pk])


def a_preset(owner: User, name: str = "Tall webp", **values: Any) -> Preset:
    return Preset.objects.create(
        owner=owner, name=name, model_name="gpt-image-2", values={"n": 1, **values}
    )


# Saving


def test_saving_keeps_the_checked_options_and_not_the_prompt(
    alice: User, alice_client: Client
) -> None:
    response = alice_client.post(SAVE, GPT | {"preset_name": "  Tall webp  "})
    preset = Preset.objects.get(owner=alice)
    assert preset.name == "Tall webp"
    assert preset.model_name == "gpt-image-2"
    assert preset.values == {"n": 2, "size": "1024x1536", "quality": "high",
                             "output_format": "webp", "output_compression": 80,
                             "background": "auto", "moderation": "low"}  # fmt: skip
    assert "prompt" not in preset.values
    # Back to the form with the settings applied, the prompt still there; nothing was sent.
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["model"] == ["gpt-image-2"] and query["size"] == ["1024x1536"]
    assert query["prompt"] == ["a paper boat"]
    assert not Generation.objects.exists()
    page = alice_client.get(response["Location"]).content.decode()
    assert "Preset “Tall webp” saved." in page
    assert 'value="1024x1536" checked>' in page
    assert '<option value="webp" selected>' in page


def test_a_custom_size_is_kept_as_its_pixels(alice: User, alice_client: Client) -> None:
    data = GPT | {"size": "custom", "width": "1280", "height": "720", "preset_name": "Wide"}
    alice_client.post(SAVE, data)
    assert Preset.objects.get(owner=alice).values["size"] == "1280x720"
    page = alice_client.get(Preset.objects.get().apply_url()).content.decode()
    assert 'value="custom" checked>' in page
    assert 'value="1280"' in page and 'value="720"' in page


def test_saving_under_a_name_already_used_replaces_that_preset(
    alice: User, alice_client: Client
) -> None:
    a_preset(alice, "Tall webp", size="1024x1024")
    response = alice_client.post(SAVE, GPT | {"preset_name": "Tall webp"}, follow=True)
    assert Preset.objects.filter(owner=alice).count() == 1
    assert Preset.objects.get().values["size"] == "1024x1536"
    assert "Preset “Tall webp” updated." in response.content.decode()


def test_two_people_may_use_the_same_name(alice: User, bob: User, bob_client: Client) -> None:
    a_preset(alice, "Tall webp")
    bob_client.post(SAVE, GPT | {"preset_name": "Tall webp"})
    assert Preset.objects.filter(name="Tall webp").count() == 2
    assert Preset.objects.get(owner=alice).values == {"n": 1}  # alice's is untouched


def test_saving_from_htmx_redirects_the_page(alice_client: Client) -> None:
    response = alice_client.post(SAVE, GPT | {"preset_name": "Tall"}, headers=HTMX)
    assert response.status_code == 200
    assert query_of(response["HX-Redirect"])["model"] == ["gpt-image-2"]


def test_booleans_are_kept_and_read_back(alice: User, alice_client: Client) -> None:
    data = {"model": "doubao-seedream-5-0-260128", "size": "2K", "n": "1",
            "response_format": "url", "seed": "7", "preset_name": "No mark"}  # fmt: skip
    alice_client.post(SAVE, data)  # watermark unticked
    preset = Preset.objects.get(owner=alice)
    assert preset.values["watermark"] is False
    assert query_of(preset.apply_url())["watermark"] == ["false"]
    page = alice_client.get(preset.apply_url()).content.decode()
    watermark = page[page.index('name="watermark"') : page.index('name="watermark"') + 200]
    assert "checked" not in watermark.split(">")[0]
    assert '<option value="url" selected>' in page


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"preset_name": ""}, "Give the preset a name"),
        ({"preset_name": "x" * 101}, "Give the preset a name"),
        ({"quality": "ultra"}, "Quality: Select a valid choice."),
        ({"output_compression": "101"}, "Compression:"),
        ({"background": "transparent", "output_format": "jpeg"}, "Background: When"),
        ({"size": "custom", "width": "1000", "height": "1000"}, "multiples of 16"),
        ({"n": "11"}, "Number of images:"),
        ({"model": "no-such-model"}, "Model:"),
    ],
)
def test_nothing_invalid_is_saved(alice_client: Client, change: dict, problem: str) -> None:
    data = GPT | {"preset_name": "Broken"} | change
    response = alice_client.post(SAVE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert problem in page
    assert "The preset was not saved" in page
    assert not Preset.objects.exists()
    # The way back keeps everything the person had written.
    assert "prompt=a+paper+boat" in page and f"{GENERATE}?" in page


def test_an_invalid_save_from_htmx_says_why_beside_the_button(alice_client: Client) -> None:
    response = alice_client.post(SAVE, GPT | {"quality": "ultra", "preset_name": "x"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#preset-save-status"
    assert response["HX-Reswap"] == "innerHTML"
    page = response.content.decode()
    assert "<html" not in page and "Quality: Select a valid choice." in page
    assert not Preset.objects.exists()


def test_saving_needs_a_post_a_sign_in_and_the_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(SAVE).status_code == 405
    assert client.post(SAVE, GPT | {"preset_name": "x"}).status_code == 403
    response = Client().post(SAVE, GPT | {"preset_name": "x"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not Preset.objects.exists()


# Applying, renaming, deleting


def test_the_generate_page_lists_the_persons_own_presets(
    alice: User, bob: User, alice_client: Client
) -> None:
    mine = a_preset(alice, "Mine", size="1536x1024")
    a_preset(bob, "Bob's secret")
    page = alice_client.get(GENERATE).content.decode()
    assert f'href="{mine.apply_url().replace("&", "&amp;")}" data-preset' in page
    assert "Bob&#x27;s secret" not in page and "Bob's secret" not in page
    assert f'formaction="{SAVE}"' in page


def test_applying_opens_the_form_with_the_presets_settings(alice: User, alice_client: Client):
    preset = a_preset(alice, size="1536x1024", quality="high", output_format="jpeg")
    page = alice_client.get(preset.apply_url()).content.decode()
    assert 'value="1536x1024" checked>' in page
    assert '<option value="high" selected>' in page
    assert '<option value="jpeg" selected>' in page


def test_a_preset_whose_values_no_longer_fit_opens_what_still_does(
    alice: User, alice_client: Client
) -> None:
    preset = a_preset(alice, quality="ultra", size="1024x1536")  # the model changed since
    page = alice_client.get(preset.apply_url()).content.decode()
    assert 'value="1024x1536" checked>' in page
    assert '<option value="auto" selected>Automatic</option>' in page


def test_the_list_page_shows_only_ones_own(alice: User, bob: User, alice_client: Client) -> None:
    a_preset(alice, "Mine")
    a_preset(bob, "Bob's")
    page = alice_client.get(LIST).content.decode()
    assert "Mine" in page and "Bob" not in page
    assert alice_client.post(LIST).status_code == 405


def test_renaming(alice: User, alice_client: Client) -> None:
    preset = a_preset(alice, "Old")
    response = alice_client.post(rename(preset), {"name": "New"}, follow=True)
    preset.refresh_from_db()
    assert preset.name == "New"
    assert "Preset renamed." in response.content.decode()


def test_renaming_from_htmx_redraws_the_list(alice: User, alice_client: Client) -> None:
    preset = a_preset(alice, "Old")
    response = alice_client.post(rename(preset), {"name": "New"}, headers=HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="preset-manager">')
    assert "New" in page and "Preset renamed." in page


@pytest.mark.parametrize(("name", "problem"), [("", "Give the preset a name"),
                                               ("Taken", "already have a preset")])  # fmt: skip
def test_renaming_refuses_an_empty_or_taken_name(
    alice: User, alice_client: Client, name: str, problem: str
) -> None:
    a_preset(alice, "Taken")
    preset = a_preset(alice, "Old")
    response = alice_client.post(rename(preset), {"name": name}, follow=True)
    preset.refresh_from_db()
    assert preset.name == "Old"
    assert problem in response.content.decode()


def test_deleting(alice: User, alice_client: Client) -> None:
    preset = a_preset(alice, "Gone")
    response = alice_client.post(delete(preset))
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Preset.objects.exists()
    htmx = alice_client.post(delete(a_preset(alice, "Also")), headers=HTMX)
    assert "No presets yet." in htmx.content.decode()


def test_another_persons_preset_is_not_found(alice: User, bob_client: Client) -> None:
    preset = a_preset(alice, "Mine")
    assert bob_client.post(rename(preset), {"name": "Stolen"}).status_code == 404
    assert bob_client.post(delete(preset)).status_code == 404
    preset.refresh_from_db()
    assert preset.name == "Mine"


def test_renaming_and_deleting_need_a_post_and_the_csrf_token(alice: User) -> None:
    preset = a_preset(alice, "Mine")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(rename(preset)).status_code == 405
    assert client.get(delete(preset)).status_code == 405
    assert client.post(rename(preset), {"name": "x"}).status_code == 403
    assert client.post(delete(preset)).status_code == 403
    assert Preset.objects.get().name == "Mine"


# The last settings used


def test_a_fresh_page_starts_from_the_last_jobs_model_and_options(
    alice: User, alice_client: Client
) -> None:
    Generation.objects.create(owner=alice, model_name="qwen-image", prompt="older",
                              parameters={"n": 1, "size": "1328x1328"})  # fmt: skip
    Generation.objects.create(
        owner=alice, model_name="gpt-image-2", prompt="a secret prompt",
        parameters={"n": 3, "size": "1536x1024", "quality": "low", "output_format": "jpeg"},
    )  # fmt: skip
    page = alice_client.get(GENERATE).content.decode()
    picker = page[page.index('<select name="model"') :]
    assert '<option value="gpt-image-2" selected>' in picker
    assert 'value="1536x1024" checked>' in page
    assert '<option value="low" selected>' in page
    assert "a secret prompt" not in page.split('name="prompt"')[1].split("</textarea>")[0]


def test_the_last_settings_leave_out_the_prompt_and_images(alice: User) -> None:
    parameters = {"n": 1, "size": "2K", "image": ["data:image/png;base64,AA"]}
    Generation.objects.create(
        owner=alice, model_name="doubao-seedream-5-0-260128", prompt="x", parameters=parameters
    )
    assert last_settings(alice) == {"model": "doubao-seedream-5-0-260128", "n": 1, "size": "2K"}


def test_no_jobs_means_the_default_model(alice: User, alice_client: Client) -> None:
    assert last_settings(alice) == {}
    assert '<option value="gpt-image-2" selected>' in alice_client.get(GENERATE).content.decode()


def test_another_persons_last_job_is_not_used(bob: User, alice_client: Client) -> None:
    Generation.objects.create(owner=bob, model_name="qwen-image", prompt="bob's",
                              parameters={"n": 1, "size": "1664x928"})  # fmt: skip
    page = alice_client.get(GENERATE).content.decode()
    assert '<option value="gpt-image-2" selected>' in page


def test_a_retired_models_last_settings_open_its_replacement(
    alice: User, alice_client: Client
) -> None:
    Generation.objects.create(owner=alice, model_name="dall-e-3", prompt="old",
                              parameters={"n": 1, "size": "1024x1024", "quality": "hd",
                                          "response_format": "url"})  # fmt: skip
    page = alice_client.get(GENERATE).content.decode()
    assert '<option value="gpt-image-2" selected>' in page
    assert "DALL·E 3 has retired; these settings now use GPT Image 2." in page
    assert 'value="1024x1024" checked>' in page


def test_an_address_with_settings_wins_over_the_last_ones(
    alice: User, alice_client: Client
) -> None:
    Generation.objects.create(owner=alice, model_name="gpt-image-2", prompt="x",
                              parameters={"n": 1, "size": "1536x1024"})  # fmt: skip
    page = alice_client.get(GENERATE, {"model": "qwen-image"}).content.decode()
    assert '<option value="qwen-image" selected>' in page
    # Paging the feed is still a fresh page.
    page = alice_client.get(GENERATE, {"page": "1"}).content.decode()
    assert 'value="1536x1024" checked>' in page


def test_admin_lists_presets(admin_client: Client, alice: User) -> None:
    a_preset(alice, "Listed")
    page = admin_client.get(reverse("admin:imagegen_preset_changelist")).content.decode()
    assert "Listed" in page and "alice" in page
