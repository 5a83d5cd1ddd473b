"""The image editor and reference images, in Chromium against the running studio (issue 10).

The offline provider keeps every pixel outside an edit's mask and draws references as thumbnails
along the bottom edge, so what a person painted or uploaded can be checked in the pixels.
"""

import base64
import io
import json
import re
from functools import reduce
from urllib.parse import urlsplit

from PIL import Image, ImageChops
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.studio_pages import choose_model, choose_size, sign_up, submit_generation
from tests.browser.test_accessibility import axe_violations
from tests.browser.tour import Tour

# A job on a busy 2-core machine: a free worker, the provider's 3 s, the download, the card's poll.
JOB_MS = 60_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
SEEDREAM = "doubao-seedream-5-0-260128"
SWATCH = (23, 190, 207)  # the uploaded reference: one colour, to be found in the result
IMAGE_PAGE = re.compile(r"/images/[0-9a-f-]{36}/$")
EMPTY = "No mask: the whole image is the reference."
PAINTED = re.compile(r"^Area to change: \d+%$")


def finished(page: Page) -> Locator:
    """The page's job card once it has succeeded: waited for itself, with time for a slow CI."""
    card = page.locator(".generation-card.status-succeeded")
    expect(card).to_be_visible(timeout=JOB_MS)
    return card


def result_page(card: Locator) -> str:
    """The path of the first image a finished job card shows."""
    href = card.locator(".result-open").first.get_attribute("href")
    assert href and IMAGE_PAGE.search(href), href
    return href


def picture(page: Page, path: str) -> Image.Image:
    """An image's pixels, fetched with the page's session (its cookies, its owner)."""
    response = page.request.get(path)
    assert response.ok, f"{path}: {response.status}"
    with Image.open(io.BytesIO(response.body())) as opened:
        return opened.convert("RGBA")


def changed(before: Image.Image, after: Image.Image) -> Image.Image:
    """255 where any channel of a pixel differs, 0 where the two are identical."""
    largest = reduce(ImageChops.lighter, ImageChops.difference(before, after).split())
    return largest.point(lambda value: 255 if value else 0)


def count(binary: Image.Image) -> int:
    return binary.histogram()[255]


def gpt_image_path(page: Page, tour: Tour) -> str:
    """The tour's GPT Image 2 picture: its model takes a mask, so the painter is shown."""
    page.goto(tour.generation)
    return result_page(page.locator(".generation-card"))


def drawn_box(locator: Locator, timeout_ms: int = 30_000) -> dict:
    """The element's box once it has one (an image laid out late leaves it 0 wide a while)."""
    page = locator.page
    for _ in range(timeout_ms // 250):
        box = locator.bounding_box()
        if box and box["width"] > 0:
            return box
        page.wait_for_timeout(250)
    raise AssertionError(f"{locator} never got a size: {locator.bounding_box()}")


def open_editor(page: Page, image_path: str) -> Locator:
    page.goto(f"{image_path}edit/")
    editor = page.locator(".mask-editor.is-ready")
    expect(editor).to_be_visible()
    return editor


def test_an_edit_keeps_every_pixel_outside_the_painted_mask(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    choose_size(page, "1024x1024")
    card = submit_generation(page, "A walled garden with a round pond, seen from above")
    expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    source = result_page(card)
    card.locator(".result").first.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(f"{source}edit/")
    expect(page.get_by_label("Model", exact=True)).to_have_value("gpt-image-2")
    expect(page.locator(".mask-editor.is-ready")).to_be_visible()
    status = page.locator("[data-mask-status]")
    expect(status).to_have_text(EMPTY)

    page.locator("[data-brush-size]").fill("20")  # 5% of the edge: about 51 image pixels
    # The canvas takes the image's box once the image is laid out (late on a loaded machine).
    expect(page.locator("[data-mask-image]")).to_have_js_property("complete", True)
    box = drawn_box(page.locator("[data-mask-canvas]"))
    assert box["width"] > 200, box

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    # A filled rectangle in one zig-zag stroke over the middle, 30-70% across, 35-65% down.
    page.mouse.move(*at(0.3, 0.35))
    page.mouse.down()
    for row in range(7):
        y = 0.35 + row * 0.05
        page.mouse.move(*at(0.3 if row % 2 else 0.7, y), steps=8)
        if row < 6:
            page.mouse.move(*at(0.7 if row % 2 else 0.3, y + 0.05), steps=2)
    page.mouse.up()
    expect(status).to_have_text(PAINTED)

    page.get_by_label("Prompt", exact=True).fill("A red rowing boat on a lily pond")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page).to_have_url(re.compile(r"/generations/[0-9a-f-]{36}/$"))
    edited = result_page(finished(page))
    generation = urlsplit(page.url).path

    before = picture(page, f"{source}original")
    after = picture(page, f"{edited}original")
    mask = picture(page, f"{generation}mask")  # the mask the browser sent
    assert before.size == after.size == mask.size == (1024, 1024)
    painted = mask.getchannel("A").point(lambda alpha: 255 if alpha == 0 else 0)
    area = count(painted)
    # The mask is where the stroke went: the middle is painted, the corners and edges are not.
    assert 0.1 < area / (1024 * 1024) < 0.3, area
    assert painted.getpixel((512, 512)) == 255
    for corner in ((0, 0), (1023, 0), (0, 1023), (1023, 1023), (100, 512), (924, 512)):
        assert painted.getpixel(corner) == 0, corner

    difference = changed(before, after)
    outside = count(ImageChops.subtract(difference, painted))
    inside = count(ImageChops.multiply(difference, painted))
    assert outside == 0, f"{outside} pixels outside the mask changed"
    assert inside / area > 0.5, f"only {inside} of {area} painted pixels changed"


def swatch_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), SWATCH).save(buffer, "PNG")
    return buffer.getvalue()


def close_to(colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 3) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def test_an_uploaded_reference_is_drawn_in_and_linked_both_ways(page: Page) -> None:
    sign_up(page)
    choose_model(page, SEEDREAM)
    page.locator("[data-reference-upload]").set_input_files(
        files=[{"name": "swatch.png", "mimeType": "image/png", "buffer": swatch_png()}]
    )
    slot = page.locator("[data-reference-slots] input[name=reference]:checked")
    expect(slot).to_have_count(1)
    uploaded = f"/images/{slot.get_attribute('value')}/"
    card = submit_generation(page, "A teal kite over a beach")
    expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    made = result_page(card)

    page.goto("/images/")
    tiles = page.locator(".image-grid .tile")
    expect(tiles).to_have_count(2)
    upload_tile = tiles.filter(has=page.locator(f"a[href^='{uploaded}']"))
    made_tile = tiles.filter(has=page.locator(f"a[href^='{made}']"))
    expect(upload_tile.locator(".tile-badges")).to_contain_text("Uploaded")
    expect(made_tile).to_have_count(1)
    expect(made_tile.get_by_text("Uploaded", exact=True)).to_have_count(0)

    page.goto(made)
    family = page.locator("#family")
    expect(family.get_by_role("heading", name="Versions and sources")).to_be_visible()
    expect(family.get_by_role("heading", name="Made from", exact=True)).to_be_visible()
    expect(family.locator(f"a[href='{uploaded}']")).to_have_count(1)
    page.goto(uploaded)
    expect(page.locator(".metadata")).to_contain_text("Uploaded")
    expect(family.get_by_role("heading", name="Made from this")).to_be_visible()
    expect(family.locator(f"a[href='{made}']")).to_have_count(1)

    # As imagegen/offline/drawing.py's _paste_references lays one reference out: a square of
    # `edge` pixels framed in one dark pixel, `gap` pixels from the left and bottom edges.
    result = picture(page, f"{made}original")
    width, height = result.size
    gap = max(1, min(width, height) // 64)
    edge = max(3, min(width // 6, width - 2 * gap, height // 3))
    row = height - gap - edge // 2  # through the middle of the thumbnail
    inside = [result.getpixel((x, row))[:3] for x in range(gap + 2, gap + edge - 2)]
    matching = sum(close_to(colour, SWATCH) for colour in inside)
    assert matching >= 0.9 * len(inside), f"{matching} of {len(inside)}: {inside[:3]}"


def test_a_reference_picked_from_the_gallery_is_sent_and_the_form_stays(
    browser: Browser, base_url: str, tour: Tour
) -> None:
    context = browser.new_context(base_url=base_url, storage_state=tour.storage_state)
    page = context.new_page()
    try:
        page.goto("/generate/")
        choose_model(page, SEEDREAM)
        page.locator(".reference-picker summary").click()
        choices = page.locator("#reference-choices input[name=reference]")
        expect(choices.first).to_be_visible(timeout=JOB_MS)
        # The picker fills its own list: the form around it is still there, untouched.
        expect(page.locator("#generate-submit")).to_be_visible()
        expect(page.locator(".reference-picker")).to_have_count(1)
        picked = choices.first.get_attribute("value")
        choices.first.check()
        card = submit_generation(page, "The same beach at night, with lanterns")
        expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
        page.goto(result_page(card))
        expect(page.locator(f"#family a[href='/images/{picked}/']")).to_have_count(1)
    finally:
        context.close()


# A file handed to the page as a drop or a paste hands it: built in the page from base64 bytes.
HAND_OVER = """([kind, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], kind + ".png", { type: "image/png" }));
  if (kind === "dropped") {
    const zone = document.querySelector("[data-reference-drop]");
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: files, bubbles: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true }));
  } else {
    document.activeElement.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: files, bubbles: true }),
    );
  }
}"""


def test_a_dropped_and_a_pasted_image_become_ticked_references(
    browser: Browser, base_url: str, tour: Tour
) -> None:
    context = browser.new_context(base_url=base_url, storage_state=tour.storage_state)
    page = context.new_page()
    try:
        page.goto("/generate/")
        choose_model(page, SEEDREAM)
        ticked = page.locator("[data-reference-slots] input[name=reference]:checked")
        expect(ticked).to_have_count(0)
        encoded = base64.b64encode(swatch_png()).decode()
        page.evaluate(HAND_OVER, ["dropped", encoded])
        expect(ticked).to_have_count(1, timeout=JOB_MS)
        page.get_by_label("Prompt", exact=True).focus()
        pasted = base64.b64encode(png_of((200, 40, 90))).decode()
        page.evaluate(HAND_OVER, ["pasted", pasted])
        expect(ticked).to_have_count(2, timeout=JOB_MS)
        # Both are in the gallery now, uploaded, under the names they came with.
        values = ticked.evaluate_all("inputs => inputs.map((input) => input.value)")
        pages = [page.request.get(f"/images/{value}/") for value in values]
        assert [response.status for response in pages] == [200, 200]
        assert "dropped.png" in pages[0].text() and "pasted.png" in pages[1].text()
        assert all("Uploaded" in response.text() for response in pages)
    finally:
        context.close()


def png_of(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_keys_switch_tools_and_undo_in_the_editor(
    browser: Browser, base_url: str, tour: Tour
) -> None:
    context = browser.new_context(base_url=base_url, storage_state=tour.storage_state)
    page = context.new_page()
    try:
        open_editor(page, gpt_image_path(page, tour))
        brush = page.locator("[data-tool=brush]")
        eraser = page.locator("[data-tool=eraser]")
        undo = page.locator("[data-action=undo]")
        status = page.locator("[data-mask-status]")
        expect(brush).to_have_attribute("aria-pressed", "true")
        expect(status).to_have_text(EMPTY)
        expect(undo).to_have_attribute("aria-disabled", "true")

        page.keyboard.press("e")
        expect(eraser).to_have_attribute("aria-pressed", "true")
        expect(brush).to_have_attribute("aria-pressed", "false")
        page.keyboard.press("b")
        expect(brush).to_have_attribute("aria-pressed", "true")
        expect(eraser).to_have_attribute("aria-pressed", "false")

        canvas = page.locator("[data-mask-canvas]")
        canvas.click(position={"x": 40, "y": 40})  # a dot
        expect(status).to_have_text(PAINTED)
        expect(undo).to_have_attribute("aria-disabled", "false")
        dot = status.inner_text()
        page.keyboard.press("i")  # everything else is painted now
        expect(status).not_to_have_text(dot)
        expect(status).to_have_text(PAINTED)
        page.keyboard.press("Control+z")
        expect(status).to_have_text(dot)
        page.keyboard.press("Control+z")
        expect(status).to_have_text(EMPTY)
        expect(undo).to_have_attribute("aria-disabled", "true")
        page.keyboard.press("Control+Shift+z")
        expect(status).to_have_text(dot)

        # In the prompt the letters are typed, not taken as shortcuts.
        page.get_by_label("Prompt", exact=True).fill("")
        page.get_by_label("Prompt", exact=True).press_sequentially("eib")
        expect(page.get_by_label("Prompt", exact=True)).to_have_value("eib")
        expect(brush).to_have_attribute("aria-pressed", "true")
        expect(status).to_have_text(dot)
    finally:
        context.close()


def test_axe_finds_nothing_in_the_editor(
    browser: Browser, base_url: str, tour: Tour, axe_source: str
) -> None:
    found = {}
    for language in ("en", "ar"):
        context = browser.new_context(
            base_url=base_url, storage_state=tour.storage_state, viewport=DESKTOP, locale=language
        )
        page = context.new_page()
        try:
            open_editor(page, gpt_image_path(page, tour))
            expect(page.locator("html")).to_have_attribute("lang", language)
            page.locator("[data-mask-canvas]").click(position={"x": 40, "y": 40})
            expect(page.locator("[data-mask-status]")).not_to_be_empty()
            found[language] = axe_violations(page, axe_source)
        finally:
            context.close()
    problems = {name: violations for name, violations in found.items() if violations}
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)


def test_the_editor_on_a_phone(browser: Browser, base_url: str, tour: Tour) -> None:
    context = browser.new_context(
        base_url=base_url,
        storage_state=tour.storage_state,
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    try:
        open_editor(page, gpt_image_path(page, tour))
        width = page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], f"the editor scrolls sideways: {width} px"
        buttons = page.locator(".mask-toolbar button")
        expect(buttons).to_have_count(6)
        for index in range(buttons.count()):
            button = buttons.nth(index).bounding_box()
            assert button and button["height"] >= 44, f"{buttons.nth(index).inner_text()}: {button}"

        status = page.locator("[data-mask-status]")
        expect(status).to_have_text(EMPTY)
        canvas = page.locator("[data-mask-canvas]")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(status).to_have_text(PAINTED)

        submit = page.get_by_role("button", name="Edit", exact=True)
        submit.scroll_into_view_if_needed()
        expect(submit).to_be_visible()
        expect(submit).to_be_in_viewport()
    finally:
        context.close()
