"""The image model admin: the JSON schema editor, export and import, and the live model list."""

import copy
import html
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from imagegen.catalogue import SHIPPED_MODELS, readable, schema_errors, shipped_model
from imagegen.forms import GenerateForm
from imagegen.models import Generation, ImageModel, UpstreamModel
from imagegen.offline import catalogue_names, models_page

CHANGELIST = reverse("admin:imagegen_imagemodel_changelist")
ADD = reverse("admin:imagegen_imagemodel_add")
IMPORT = reverse("admin:imagegen_imagemodel_import")
SYNC = reverse("admin:imagegen_imagemodel_sync")
UPSTREAM_CHANGELIST = reverse("admin:imagegen_upstreammodel_changelist")

GUIDANCE = {
    "name": "guidance_scale",
    "kind": "number",
    "label": "Guidance scale",
    "minimum": 1,
    "maximum": 10,
    "default": 2.5,
}


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "x")


@pytest.fixture
def root_client(root: User) -> Client:
    client = Client()
    client.force_login(root)
    return client


def change_url(name: str) -> str:
    return reverse("admin:imagegen_imagemodel_change", args=[ImageModel.objects.get(name=name).pk])


def posted(values: dict[str, Any]) -> dict[str, str]:
    """A model's values as its admin form sends them (an unticked box is left out)."""
    data = {}
    for name, value in values.items():
        if name in ("schema", "price") and not isinstance(value, str):
            data[name] = json.dumps(value)
        elif value is True:
            data[name] = "on"
        elif value is not False and value is not None:
            data[name] = str(value)
    return data


def edit(client: Client, name: str, **changes: Any) -> Any:
    """Save the change form of model `name` with `changes`, everything else as it was."""
    model = ImageModel.objects.get(name=name)
    values = model.export() | {"enabled": model.enabled} | changes
    return client.post(change_url(name), posted(values))


def qwen_schema(sizes: list[str], default: str = "1328x1328") -> dict[str, Any]:
    schema = copy.deepcopy(shipped_model("qwen-image")["schema"])
    schema["parameters"][0] |= {"choices": sizes, "default": default}
    return schema


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def upload(content: bytes, name: str = "image-models.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def export(client: Client, *names: str) -> dict[str, Any]:
    pks = ImageModel.objects.filter(name__in=names).values_list("pk", flat=True)
    response = client.post(CHANGELIST, {"action": "export_models", "_selected_action": list(pks)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="image-models.json"'
    return json.loads(response.content)


def test_the_schema_is_shown_as_indented_json(root_client: Client) -> None:
    response = root_client.get(change_url("gpt-image-2"))
    assert response.status_code == 200
    schema = ImageModel.objects.get(name="gpt-image-2").schema
    # Keys in reading order whatever the database keeps (PostgreSQL's jsonb sorts them).
    assert json.dumps(readable(schema), indent=2, ensure_ascii=False) in page_text(response)
    assert json.loads(json.dumps(readable(schema))) == schema
    assert '{\n  "parameters": [\n    {\n      "name": "size",' in page_text(response)


@pytest.mark.parametrize("name", [values["name"] for values in SHIPPED_MODELS])
def test_every_shipped_model_saves_unchanged_through_its_change_form(
    root_client: Client, name: str
) -> None:
    before = ImageModel.objects.get(name=name)
    assert root_client.get(change_url(name)).status_code == 200
    response = edit(root_client, name)
    assert response.status_code == 302, page_text(response)[:2000]
    after = ImageModel.objects.get(name=name)
    assert (after.export(), after.enabled) == (before.export(), before.enabled)


def test_a_size_that_is_not_a_size_is_refused_and_nothing_is_saved(root_client: Client) -> None:
    before = ImageModel.objects.get(name="qwen-image").schema
    response = edit(
        root_client, "qwen-image", schema=qwen_schema(["1328x1328", "banana"]), label="Renamed"
    )
    text = page_text(response)
    assert response.status_code == 200
    assert "parameters[0] “size” > choices[1]: “banana” is not a size" in text
    model = ImageModel.objects.get(name="qwen-image")
    assert (model.schema, model.label) == (before, "Qwen Image")


def test_a_default_outside_its_choices_is_refused(root_client: Client) -> None:
    response = edit(
        root_client, "qwen-image", schema=qwen_schema(["1328x1328", "1664x928"], "512x512")
    )
    text = page_text(response)
    assert response.status_code == 200
    assert "parameters[0] “size” > default: The default is not allowed:" in text
    assert "“512x512” is not one of: 1328x1328, 1664x928." in text
    assert ImageModel.objects.get(name="qwen-image").schema["parameters"][0]["default"] == (
        "1328x1328"
    )


def test_a_rule_naming_a_missing_parameter_is_refused(root_client: Client) -> None:
    schema = qwen_schema(["1328x1328"])
    schema["rules"] = [{"if": {"background": ["transparent"]}, "then": {"size": ["1328x1328"]}}]
    response = edit(root_client, "qwen-image", schema=schema)
    assert response.status_code == 200
    assert "rules[0] > if: no parameter is called “background”." in page_text(response)
    assert ImageModel.objects.get(name="qwen-image").schema["rules"] == []


def test_a_schema_of_the_wrong_shape_is_refused_with_where_it_is(root_client: Client) -> None:
    schema = qwen_schema(["1328x1328"])
    schema["parameters"][0]["kind"] = "colour"
    response = edit(root_client, "qwen-image", schema=schema)
    assert response.status_code == 200
    assert "parameters[0] “size” > kind: 'colour' is not one of" in page_text(response)
    assert ImageModel.objects.get(name="qwen-image").schema["parameters"][0]["kind"] == "size"


def test_invalid_json_is_refused_and_shown_back_as_typed(root_client: Client) -> None:
    typed = '{"parameters": [{"name": "size",'
    response = edit(root_client, "qwen-image", schema=typed)
    text = page_text(response)
    assert response.status_code == 200
    assert "Enter a valid JSON." in text
    assert typed in text  # not lost, so it can be fixed
    assert ImageModel.objects.get(name="qwen-image").schema == qwen_schema(
        ["1328x1328", "1664x928", "928x1664", "1472x1140", "1140x1472"]
    )


def test_an_administrator_adds_a_model_and_the_generate_form_shows_it(
    root_client: Client, alice_client: Client
) -> None:
    schema = {
        "parameters": [
            {"name": "size", "kind": "size", "label": "Size", "choices": ["1024x1024", "auto"],
             "default": "1024x1024", "send_default": True},
            {"name": "quality", "kind": "choice", "label": "Quality",
             "choices": ["auto", "xhigh"], "default": "auto"},
            GUIDANCE,
        ],
        "rules": [],
    }  # fmt: skip
    values = {"name": "flux-2-pro", "label": "FLUX.2 Pro", "family": "other", "enabled": True,
              "position": 5, "prompt_max_length": 2000, "max_images": 4, "result_kind": "url",
              "schema": schema}  # fmt: skip
    response = root_client.post(ADD, posted(values))
    assert response.status_code == 302, page_text(response)[:3000]
    assert ImageModel.objects.get(name="flux-2-pro").spec().parameter("guidance_scale")

    page = alice_client.get(reverse("generate")).content.decode()
    assert '<option value="flux-2-pro" selected>FLUX.2 Pro</option>' in page  # first by position
    assert '<label for="id_guidance_scale">Guidance scale</label>' in page
    guidance = re.search(r'<input type="number" name="guidance_scale"[^>]*>', page)
    assert guidance, page
    for attribute in ('step="any"', 'min="1"', 'max="10"', 'placeholder="2.5"'):
        assert attribute in guidance[0]
    assert '<option value="xhigh">Extra high</option>' in page
    assert "Up to 4 images per request." in page

    form = GenerateForm(initial={"model": "flux-2-pro"})
    assert list(form.fields) == ["model", "prompt", "size", "n", "quality", "guidance_scale"]
    data = {"model": "flux-2-pro", "prompt": "a kite", "size": "1024x1024", "n": 2}
    refused = GenerateForm(data | {"guidance_scale": "10.5"})
    assert list(refused.errors) == ["guidance_scale"]

    alice_client.post(reverse("generate"), data | {"guidance_scale": "7.5", "quality": "xhigh"})
    generation = Generation.objects.get()
    assert generation.parameters == {
        "n": 2,
        "size": "1024x1024",
        "quality": "xhigh",
        "guidance_scale": 7.5,
    }
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message


def test_a_new_model_with_a_broken_schema_is_not_added(root_client: Client) -> None:
    values = {"name": "broken", "label": "Broken", "family": "other", "position": 5,
              "prompt_max_length": 100, "max_images": 1, "result_kind": "url",
              "schema": {"parameters": [GUIDANCE | {"default": 12}], "rules": []}}  # fmt: skip
    response = root_client.post(ADD, posted(values))
    assert response.status_code == 200
    assert (
        "parameters[0] “guidance_scale” > default: The default is not allowed: "
        "Guidance scale must be from 1 to 10."
    ) in page_text(response)
    assert not ImageModel.objects.filter(name="broken").exists()


def test_the_changelist_says_which_models_new_jobs_may_use(root_client: Client) -> None:
    UpstreamModel.objects.create(name="qwen-image", offered=False)
    response = root_client.get(CHANGELIST)
    assert response.status_code == 200
    changelist = response.context["cl"]
    rows = {row.name: changelist.model_admin.availability(row) for row in changelist.result_list}
    assert rows["gpt-image-2"] == "yes (by its end date; not synced yet)"
    assert rows["dall-e-3"] == "no (by its end date; not synced yet)"
    assert rows["qwen-image"] == "no (not offered by the key)"


def test_export_returns_the_selected_models_as_json(root_client: Client) -> None:
    document = export(root_client, "qwen-image", "gpt-image-2")
    assert document["format"] == "image-studio.models/1"
    by_name = {entry["name"]: entry for entry in document["models"]}
    assert set(by_name) == {"qwen-image", "gpt-image-2"}
    assert by_name["qwen-image"] == ImageModel.objects.get(name="qwen-image").export()
    assert by_name["gpt-image-2"]["schema"] == ImageModel.objects.get(name="gpt-image-2").schema
    assert by_name["gpt-image-2"]["released_on"] == "2026-04-21"


def test_an_exported_file_imports_back_with_its_changes(root_client: Client) -> None:
    document = export(root_client, "qwen-image", "gpt-image-2")
    for entry in document["models"]:
        if entry["name"] == "qwen-image":
            entry["label"] = "Qwen Image (Alibaba)"
            entry["schema"]["parameters"][0]["choices"].append("1024x1024")
    response = root_client.post(
        IMPORT, {"file": upload(json.dumps(document).encode())}, follow=True
    )
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "Imported 2 models." in page_text(response)
    qwen = ImageModel.objects.get(name="qwen-image")
    assert qwen.label == "Qwen Image (Alibaba)"
    assert "1024x1024" in qwen.spec().size.choices
    assert ImageModel.objects.get(name="gpt-image-2").label == "GPT Image 2"


def test_an_import_adds_a_model_it_does_not_know(root_client: Client) -> None:
    entry = ImageModel.objects.get(name="qwen-image").export() | {
        "name": "qwen-image-plus",
        "label": "Qwen Image Plus",
    }
    response = root_client.post(IMPORT, {"file": upload(json.dumps({"models": [entry]}).encode())})
    assert response.status_code == 302
    assert ImageModel.objects.get(name="qwen-image-plus").schema == entry["schema"]


def test_an_import_with_one_broken_model_saves_none_of_them(root_client: Client) -> None:
    good = ImageModel.objects.get(name="qwen-image").export() | {"label": "Changed"}
    broken = good | {"name": "broken", "schema": qwen_schema(["banana"], "banana")}
    document = {"format": "image-studio.models/1", "models": [good, broken]}
    response = root_client.post(IMPORT, {"file": upload(json.dumps(document).encode())})
    text = page_text(response)
    assert response.status_code == 200
    assert "models[1] broken > schema > parameters[0] “size” > choices[0]: “banana”" in text
    assert ImageModel.objects.get(name="qwen-image").label == "Qwen Image"
    assert not ImageModel.objects.filter(name="broken").exists()


def test_an_import_refuses_a_file_that_is_not_json(root_client: Client) -> None:
    response = root_client.post(IMPORT, {"file": upload(b"name,label\nqwen-image,Qwen\n")})
    assert response.status_code == 200
    assert "The file is not JSON." in page_text(response)
    response = root_client.post(IMPORT, {"file": upload(b"\xff\xfe\x00not text")})
    assert "The file is not JSON." in page_text(response)


def test_an_import_refuses_json_that_is_not_an_export(root_client: Client) -> None:
    response = root_client.post(IMPORT, {"file": upload(b'[{"name": "qwen-image"}]')})
    assert response.status_code == 200
    assert 'Expected {"models": [...]}, as the export writes.' in page_text(response)


def test_an_import_refuses_a_file_over_1_mb(root_client: Client) -> None:
    entry = ImageModel.objects.get(name="qwen-image").export() | {"label": "Too big"}
    document = json.dumps({"models": [entry], "padding": " " * (1024 * 1024)}).encode()
    assert len(document) > 1024 * 1024
    response = root_client.post(IMPORT, {"file": upload(document)})
    assert response.status_code == 200
    assert "The file is larger than 1 MB." in page_text(response)
    assert ImageModel.objects.get(name="qwen-image").label == "Qwen Image"


def test_the_import_page_renders(root_client: Client) -> None:
    response = root_client.get(IMPORT)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page_text(response)
    assert f'href="{IMPORT}"' in page_text(root_client.get(CHANGELIST))


def test_the_changelist_lists_image_models_the_key_offers_that_it_does_not_describe(
    root_client: Client,
) -> None:
    UpstreamModel.objects.create(name="flux-2-pro", offered=True, model_type="image")
    UpstreamModel.objects.create(name="gpt-5", offered=True, model_type="text")
    UpstreamModel.objects.create(name="gpt-image-2", offered=True, model_type="image")
    UpstreamModel.objects.create(name="old-image-model", offered=False, model_type="image")
    text = page_text(root_client.get(CHANGELIST))
    assert 'id="undescribed-models"' in text
    assert "<code>flux-2-pro</code>" in text
    for name in ("gpt-5", "gpt-image-2", "old-image-model"):
        assert f"<code>{name}</code>" not in text


def test_with_nothing_undescribed_the_changelist_lists_nothing(root_client: Client) -> None:
    assert 'id="undescribed-models"' not in page_text(root_client.get(CHANGELIST))


def test_add_with_a_basic_schema_creates_a_disabled_model_to_review(
    root_client: Client,
) -> None:
    upstream = UpstreamModel.objects.create(name="flux-2-pro", offered=True, model_type="image")
    response = root_client.post(
        UPSTREAM_CHANGELIST, {"action": "add_to_catalogue", "_selected_action": [upstream.pk]}
    )
    model = ImageModel.objects.get(name="flux-2-pro")
    assert response.status_code == 302
    assert response["Location"] == change_url("flux-2-pro")
    assert model.enabled is False
    assert schema_errors(model.schema) == []
    assert "flux-2-pro" not in [m.name for m in ImageModel.objects.for_new_jobs()]
    assert 'id="undescribed-models"' not in page_text(root_client.get(CHANGELIST))

    ImageModel.objects.filter(pk=model.pk).update(enabled=True)
    form = GenerateForm(initial={"model": "flux-2-pro"})
    assert list(form.fields) == ["model", "prompt", "size"]


def test_adding_models_already_described_changes_nothing(root_client: Client) -> None:
    upstream = UpstreamModel.objects.create(name="qwen-image", offered=True, model_type="image")
    before = ImageModel.objects.get(name="qwen-image").export()
    root_client.post(
        UPSTREAM_CHANGELIST, {"action": "add_to_catalogue", "_selected_action": [upstream.pk]}
    )
    assert ImageModel.objects.get(name="qwen-image").export() == before


def test_sync_now_reads_the_offline_providers_lists(root_client: Client) -> None:
    offered = len(models_page(catalogue_names())["data"])
    response = root_client.post(SYNC, follow=True)
    text = page_text(response)
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert f"The key offers {offered} models." in text
    assert "Could not read" not in text
    assert UpstreamModel.objects.filter(offered=True).count() == offered
    assert UpstreamModel.objects.get(name="dall-e-3").offered is False
    assert UpstreamModel.objects.get(name="flux-2-pro").model_type == "image"
    assert "<code>flux-2-pro</code>" in text  # offered, and the catalogue does not describe it


def test_the_sync_action_does_the_same(root_client: Client) -> None:
    pk = ImageModel.objects.get(name="gpt-image-2").pk
    response = root_client.post(
        CHANGELIST, {"action": "sync_now", "_selected_action": [pk]}, follow=True
    )
    assert "The key offers" in page_text(response)
    assert UpstreamModel.objects.filter(name="gpt-image-2", offered=True).exists()


def test_the_sync_view_refuses_get(root_client: Client) -> None:
    response = root_client.get(SYNC)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert not UpstreamModel.objects.exists()


def test_the_sync_view_refuses_a_post_without_a_csrf_token(root: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    assert client.post(SYNC).status_code == 403
    assert not UpstreamModel.objects.exists()


def test_a_staff_member_who_may_only_look_cannot_sync_or_import(db) -> None:
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_imagemodel"))
    client = Client()
    client.force_login(viewer)
    assert client.get(CHANGELIST).status_code == 200
    assert client.post(SYNC)["Location"] == CHANGELIST
    assert not UpstreamModel.objects.exists()
    entry = ImageModel.objects.get(name="qwen-image").export() | {"label": "Changed"}
    response = client.post(IMPORT, {"file": upload(json.dumps({"models": [entry]}).encode())})
    assert response["Location"] == CHANGELIST
    assert ImageModel.objects.get(name="qwen-image").label == "Qwen Image"


def test_people_who_are_not_staff_cannot_reach_any_of_it(
    alice_client: Client, client: Client
) -> None:
    upstream = UpstreamModel.objects.create(name="flux-2-pro", offered=True, model_type="image")
    pk = ImageModel.objects.get(name="qwen-image").pk
    # Signed out, the site's sign-in comes first; signed in without staff, the admin's.
    for visitor, login in ((alice_client, reverse("admin:login")), (client, reverse("login"))):
        for url in (
            CHANGELIST,
            ADD,
            change_url("qwen-image"),
            IMPORT,
            SYNC,
            UPSTREAM_CHANGELIST,
        ):
            response = visitor.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(login), url
        posts = [
            (SYNC, {}),
            (CHANGELIST, {"action": "export_models", "_selected_action": [pk]}),
            (CHANGELIST, {"action": "sync_now", "_selected_action": [pk]}),
            (
                UPSTREAM_CHANGELIST,
                {"action": "add_to_catalogue", "_selected_action": [upstream.pk]},
            ),
            (IMPORT, {"file": upload(b'{"models": [{"name": "qwen-image", "label": "X"}]}')}),
            (change_url("qwen-image"), {"label": "Hacked"}),
        ]
        for url, data in posts:
            response = visitor.post(url, data)
            assert response.status_code == 302, url
            assert response["Location"].startswith(login), url
            assert response.get("Content-Type") != "application/json"
    assert list(UpstreamModel.objects.values_list("name", flat=True)) == ["flux-2-pro"]
    assert not ImageModel.objects.filter(name="flux-2-pro").exists()
    assert ImageModel.objects.get(name="qwen-image").label == "Qwen Image"


def test_the_model_list_reads_every_models_availability_with_the_rows(
    root_client: Client, django_assert_max_num_queries: Any
) -> None:
    for name in ("gpt-image-2", "qwen-image", "dall-e-3"):
        UpstreamModel.objects.create(name=name, offered=name != "qwen-image")
    root_client.get(CHANGELIST)  # warm: sessions, content types

    with django_assert_max_num_queries(12):  # not one more a model (13 are shipped)
        text = page_text(root_client.get(CHANGELIST))

    assert "yes (offered by the key)" in text and "no (not offered by the key)" in text
