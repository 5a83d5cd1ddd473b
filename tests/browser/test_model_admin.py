"""An administrator opens the catalogue: a model with a parameter no code knows, end to end."""

import json
import re
import time
from pathlib import Path
from uuid import uuid4

from playwright.sync_api import Page, expect

from tests.browser.conftest import Studio
from tests.browser.studio_pages import (
    PASSWORD,
    choose_model,
    submit_generation,
    wait_until_finished,
)
from tests.studio_process import manage

ACME_SCHEMA = {
    "parameters": [
        {"name": "size", "kind": "size", "label": "Size", "choices": ["1024x1024", "1536x1024"],
         "default": "1024x1024", "send_default": True},
        {"name": "guidance_scale", "kind": "number", "label": "Guidance scale",
         "help": "How closely to follow the prompt.", "minimum": 1, "maximum": 10,
         "default": 2.5, "send_default": True},
    ],
    "rules": [],
}  # fmt: skip


def sign_in_to_admin(page: Page, studio: Studio) -> None:
    username = f"admin-{uuid4().hex[:8]}"
    manage(
        {**studio.environment, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        *("createsuperuser", "--no-input", "--username", username),
        *("--email", f"{username}@example.org"),
    )
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Image models")).to_be_visible()


def wait_for_log_line(log: Path, pattern: re.Pattern[str], timeout: float = 30) -> str:
    """The first line of a studio process's log matching pattern, waiting for it to be written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if pattern.search(line):
                return line
        time.sleep(0.2)
    raise AssertionError(f"No line matching {pattern.pattern} in {log}")


def test_an_administrator_adds_a_model_with_a_new_parameter_and_a_job_sends_it(
    page: Page, studio: Studio
) -> None:
    sign_in_to_admin(page, studio)
    name = f"acme-paint-{uuid4().hex[:6]}"
    page.goto("/admin/imagegen/imagemodel/add/")
    page.locator("#id_name").fill(name)
    page.locator("#id_label").fill("Acme Paint")
    page.locator("#id_family").select_option("other")
    page.locator("#id_prompt_max_length").fill("2000")
    page.locator("#id_max_images").fill("2")
    page.locator("#id_schema").fill(json.dumps(ACME_SCHEMA))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Acme Paint")

    page.goto("/generate/")
    choose_model(page, name)
    fields = page.locator("#model-fields")
    guidance = fields.get_by_label("Guidance scale")
    expect(guidance).to_have_attribute("max", "10")
    expect(fields).to_contain_text("How closely to follow the prompt.")
    guidance.fill("11")
    page.get_by_label("Prompt").fill("A copper kettle on a stove")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(fields).to_contain_text("Guidance scale must be from 1 to 10.")
    expect(page.locator(".generation-card")).to_have_count(0)
    fields.get_by_label("Guidance scale").fill("7.5")
    card = submit_generation(page, "A copper kettle on a stove")
    wait_until_finished(card)

    received = re.compile(rf"offline provider received model={re.escape(name)} parameters=(.*)")
    line = wait_for_log_line(studio.logs / "workers.log", received)
    parameters = json.loads(received.search(line)[1])
    assert parameters == {"guidance_scale": 7.5, "size": "1024x1024"}


def test_the_admin_refuses_banana_as_a_size_and_names_the_entry(page: Page, studio: Studio) -> None:
    sign_in_to_admin(page, studio)
    page.goto("/admin/imagegen/imagemodel/?q=qwen-image")
    page.locator("#result_list").get_by_role("link", name="Qwen Image", exact=True).click()
    schema = json.loads(page.locator("#id_schema").input_value())
    schema["parameters"][0]["choices"].append("banana")
    page.locator("#id_schema").fill(json.dumps(schema))
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".errorlist")).to_contain_text("parameters[0] “size” > choices[5]")
    expect(page.locator(".errorlist")).to_contain_text("“banana” is not a size")

    # Nothing was saved: the generate form still offers only real sizes.
    page.goto("/generate/")
    choose_model(page, "qwen-image")
    sizes = page.locator("#model-fields").get_by_role("group", name="Size", exact=True)
    expect(sizes.get_by_role("radio").first).to_be_visible()
    expect(sizes.locator('input[value="banana"]')).to_have_count(0)
