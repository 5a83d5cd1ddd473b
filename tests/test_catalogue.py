"""The model catalogue: shipped defaults become rows an administrator can change."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from imagegen.catalogue import SHIPPED_MODELS, SizeRules, shipped_profile
from imagegen.models import ImageModel

pytestmark = pytest.mark.django_db

REQUIRED = {
    "dall-e-2",
    "dall-e-3",
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "qwen-image",
}


def test_every_required_model_is_installed_by_the_migrations() -> None:
    assert set(ImageModel.objects.values_list("name", flat=True)) >= REQUIRED


def test_a_row_profile_matches_the_shipped_profile() -> None:
    for values in SHIPPED_MODELS:
        row = ImageModel.objects.get(name=values["name"])
        assert row.profile() == shipped_profile(values["name"])


def test_every_shipped_model_passes_validation() -> None:
    for row in ImageModel.objects.all():
        row.full_clean()


def test_an_administrator_can_add_a_new_model_without_code() -> None:
    model = ImageModel(
        name="gpt-image-2.5-flare",
        label="GPT Image 2.5 Flare",
        family="gpt-image",
        prompt_max_length=32000,
        max_images=10,
        sizes=["auto", "1024x1024"],
        default_size="auto",
        qualities=["auto", "xhigh"],
        default_quality="auto",
    )
    model.full_clean()
    model.save()
    assert model.profile().qualities == ["auto", "xhigh"]


def test_it_refuses_a_default_outside_its_list() -> None:
    model = ImageModel.objects.get(name="dall-e-3")
    model.default_quality = "ultra"
    with pytest.raises(ValidationError) as error:
        model.full_clean()
    assert "default_quality" in error.value.message_dict


def test_it_refuses_a_list_that_is_not_a_list_of_strings() -> None:
    model = ImageModel.objects.get(name="dall-e-3")
    model.styles = {"vivid": True}
    with pytest.raises(ValidationError) as error:
        model.full_clean()
    assert "styles" in error.value.message_dict


def test_size_rules_follow_gpt_image_2() -> None:
    rules = SizeRules()
    assert rules.problem_with(3840, 2160) is None
    assert rules.problem_with(1024, 1024) is None
    assert rules.problem_with(1000, 1000) is not None
    assert rules.problem_with(3840, 1024) is not None


def test_size_problems_are_in_the_active_language_with_its_numbers() -> None:
    rules = SizeRules()
    with translation.override("en"):
        problem = rules.problem_with(16, 16)
    assert problem == "The image must have between 655,360 and 8,294,400 pixels."
    with translation.override("ar"):
        problem = rules.problem_with(1000, 1000)
    assert problem == "يجب أن يكون كلا البُعدين من مضاعفات 16."
