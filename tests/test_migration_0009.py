"""Migration 0009: profiles (each person's time zone) get their table; people, their jobs and
presets are untouched, and a person without a profile reads as "the server's zone". Run from
0008 with real rows, forward, and back again."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.migration_steps import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("imagegen", "0008_presets_and_advanced_parameters")]
AFTER = [("imagegen", "0009_people_time_zones")]


@pytest.fixture
def old_apps(shipped_models: str) -> Iterator[Any]:
    yield migrate(BEFORE)
    migrate_to_latest()


def test_profiles_arrive_and_leave_without_touching_anyone(old_apps: Any) -> None:
    User = old_apps.get_model("auth", "User")
    aiko = User.objects.create(username="aiko")
    old_apps.get_model("imagegen", "Generation").objects.create(
        owner=aiko, model_name="qwen-image", prompt="a lantern", parameters={"n": 1}
    )
    old_apps.get_model("imagegen", "Preset").objects.create(
        owner=aiko, name="Night", model_name="qwen-image", values={"size": "1328x1328"}
    )
    new_apps = migrate(AFTER)
    Profile = new_apps.get_model("imagegen", "Profile")
    assert not Profile.objects.exists()  # made when first needed, not by the migration
    profile = Profile.objects.create(user_id=aiko.pk, time_zone="Asia/Tokyo")
    assert profile.time_zone_chosen is False
    assert new_apps.get_model("imagegen", "Generation").objects.get().prompt == "a lantern"
    back = migrate(BEFORE)
    assert back.get_model("imagegen", "Preset").objects.get().name == "Night"
    assert back.get_model("auth", "User").objects.get().username == "aiko"
