"""Migration 0008: response_format becomes "advanced" (and, where unedited, base64 by default)
without losing an administrator's edits; presets get their table. Run from 0007 with edited
rows, forward, and back again."""

from typing import Any

import pytest
from django.db import connection

from imagegen.catalogue import schema_errors, shipped_model
from tests.conftest import put_back
from tests.migration_steps import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("imagegen", "0007_edits_and_references")]
AFTER = [("imagegen", "0008_presets_and_advanced_parameters")]
OLD_ENTRY = {"name": "response_format", "kind": "choice", "label": "Response format",
             "choices": ["url", "b64_json"], "default": "url", "send_default": True}  # fmt: skip


@pytest.fixture
def old_apps(shipped_models: str) -> Any:
    put_back(shipped_models)  # each test starts from them: the one before emptied every table
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def parameters_of(apps: Any, name: str) -> dict[str, dict[str, Any]]:
    row = apps.get_model("imagegen", "ImageModel").objects.get(name=name)
    return {p["name"]: p for p in row.schema["parameters"]}


def set_response_format(apps: Any, name: str, entry: dict[str, Any]) -> None:
    row = apps.get_model("imagegen", "ImageModel").objects.get(name=name)
    parameters = [p for p in row.schema["parameters"] if p["name"] != "response_format"]
    row.schema = {**row.schema, "parameters": [*parameters, entry]}
    row.save()


def test_it_marks_response_format_advanced_and_keeps_every_edit(old_apps: Any) -> None:
    ImageModel = old_apps.get_model("imagegen", "ImageModel")
    # As 0007 left them: the shipped entry, unedited, on DALL·E 2 and Seedream 4.5...
    set_response_format(old_apps, "dall-e-2", OLD_ENTRY)
    set_response_format(old_apps, "doubao-seedream-4-5-251128", OLD_ENTRY)
    # ...an administrator relabelled DALL·E 3's and kept URLs as its default...
    set_response_format(old_apps, "dall-e-3", {**OLD_ENTRY, "label": "Delivery"})
    # ...made Seedream 5.0's shown in plain view on purpose...
    set_response_format(old_apps, "doubao-seedream-5-0-260128", {**OLD_ENTRY, "advanced": False})
    # ...and added a model of their own that takes it with base64 first.
    house = {"name": "response_format", "kind": "choice", "label": "Result",
             "choices": ["b64_json", "url"], "default": "b64_json"}  # fmt: skip
    size = {"name": "size", "kind": "size", "label": "Size", "choices": ["512x512"],
            "default": "512x512", "send_default": True}  # fmt: skip
    ImageModel.objects.create(
        name="house-model", label="House", family="other",
        schema={"parameters": [size, house], "rules": []},
    )  # fmt: skip

    new_apps = migrate(AFTER)

    shipped = next(
        p for p in shipped_model("dall-e-2")["schema"]["parameters"]
        if p["name"] == "response_format"
    )  # fmt: skip
    assert parameters_of(new_apps, "dall-e-2")["response_format"] == shipped
    assert shipped["advanced"] is True and shipped["default"] == "b64_json"
    seedream = parameters_of(new_apps, "doubao-seedream-4-5-251128")["response_format"]
    assert seedream == shipped
    dalle = parameters_of(new_apps, "dall-e-3")["response_format"]
    assert dalle == {**OLD_ENTRY, "label": "Delivery", "advanced": True}  # its default kept
    five = parameters_of(new_apps, "doubao-seedream-5-0-260128")["response_format"]
    assert five["advanced"] is False and five["default"] == "url"
    assert parameters_of(new_apps, "house-model")["response_format"] == {**house, "advanced": True}
    # Nothing else was touched, and every schema is still sound.
    assert "advanced" not in parameters_of(new_apps, "dall-e-2")["size"]
    for row in new_apps.get_model("imagegen", "ImageModel").objects.all():
        assert schema_errors(row.schema) == [], row.name

    back = migrate(BEFORE)
    assert parameters_of(back, "dall-e-2")["response_format"] == OLD_ENTRY
    assert parameters_of(back, "dall-e-3")["response_format"] == {**OLD_ENTRY, "label": "Delivery"}
    assert parameters_of(back, "house-model")["response_format"] == house
    assert "advanced" not in parameters_of(back, "doubao-seedream-5-0-260128")["response_format"]


def test_unedited_shipped_rows_come_out_equal_to_the_shipped_schemas(old_apps: Any) -> None:
    for name in ("dall-e-2", "dall-e-3", "doubao-seedream-5-0-260128"):
        set_response_format(old_apps, name, OLD_ENTRY)
    new_apps = migrate(AFTER)
    for name in ("dall-e-2", "doubao-seedream-5-0-260128"):
        row = new_apps.get_model("imagegen", "ImageModel").objects.get(name=name)
        shipped = shipped_model(name)["schema"]
        by_name = {p["name"]: p for p in shipped["parameters"]}
        assert {p["name"]: p for p in row.schema["parameters"]} == by_name, name


def test_presets_get_their_table_and_lose_it_going_back(old_apps: Any) -> None:
    new_apps = migrate(AFTER)
    User = new_apps.get_model("auth", "User")
    Preset = new_apps.get_model("imagegen", "Preset")
    owner = User.objects.create(username="erin")
    Preset.objects.create(owner=owner, name="Wide", model_name="gpt-image-2", values={"n": 1})
    assert Preset.objects.count() == 1

    migrate(BEFORE)
    assert "imagegen_preset" not in connection.introspection.table_names()
