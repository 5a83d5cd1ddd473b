"""The translations: complete catalogues in step with their compiled files, and pages with no
English left in them.

The catalogue tests run for every language we ship; the Japanese ones fail until its catalogue is
finished. The page guard renders the main pages in a language and looks for English words in what
a person sees (text, titles, alt texts, labels, placeholders, link previews). What people wrote
themselves (prompts, collection names, usernames) and names that are not words (model ids,
file formats) are left out; the same check run on the English pages must find plenty, so the
guard cannot pass by seeing nothing.
"""

import gettext
import re
from collections import Counter
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views import defaults

from gallery.models import Collection, Image, ShareLink
from imagegen.job_messages import DOWNLOAD_FAILED, REJECTED_WITH_STATUS
from imagegen.models import Generation, ImageModel
from imagegen.upstream_errors import MESSAGES
from tests.conftest import CommittingClient

LANGUAGES = ["ar", "ja"]
SCRIPTS = {"ar": re.compile(r"[\u0600-\u06ff]"), "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")}
DIRECTIONS = {"ar": "rtl", "ja": "ltr"}

PROMPT = "lighthouse harbour watercolour"
COLLECTION = "Seascapes"
# Not words of any language: names of formats, the upstream service and its settings, and
# acronyms that many languages write in Latin letters.
NAMES = ["SHA-256", "COMETAPI_KEY", "COMETAPI_BASE_URL", "CometAPI", "Base64", "JPEG", "WebP"]
NAMES += ["PNG", "GIF", "SVG", "JSON", "HTTP", "HD", "URL", "ZIP", "zip"]
NAMES += ["UTC"]  # a time zone's name (the settings page, share expiry)


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """A request in another language leaves it active in this thread; later tests expect English."""
    yield
    translation.deactivate()


def root(page: str) -> dict[str, str]:
    """The attributes of a page's <html> element."""
    tag = re.search(r"<html\b([^>]*)>", page)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag[1])) if tag else {}


def locale_file(language: str, suffix: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / f"django.{suffix}"


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(locale_file(language, "po")))


def key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return entry.msgctxt or "", entry.msgid


# Placeholders: %(name)s and %(name)d, %s and %d (not %%), {name} and {}.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")


def placeholders(text: str) -> tuple[frozenset[str], Counter[str]]:
    """The named placeholders (any order, any number of uses) and the positional ones."""
    found = [match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", ""))]
    named = frozenset(p for p in found if p.startswith("%(") or (len(p) > 2 and p[0] == "{"))
    return named, Counter(p for p in found if p not in named)


def plural_rule(po: polib.POFile) -> tuple[int, Callable[[int], int]]:
    header = po.metadata["Plural-Forms"]
    count = int(re.search(r"nplurals\s*=\s*(\d+)", header)[1])
    expression = re.search(r"plural\s*=\s*([^;]+)", header)[1]
    return count, gettext.c2py(expression)


def single_number_forms(po: polib.POFile) -> set[int]:
    """Forms used for one number only (Arabic's 0, 1 and 2), which may leave the number out:
    "صورتان" says "2 images" by itself. gettext's own format check allows the same."""
    count, rule = plural_rule(po)
    numbers: dict[int, set[int]] = {form: set() for form in range(count)}
    for n in range(1000):
        numbers[rule(n)].add(n)
    return {form for form, ns in numbers.items() if len(ns) == 1}


# Catalogues


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_header_names_the_language_and_its_plural_forms(language: str) -> None:
    po = catalogue(language)
    assert po.metadata["Language"] == language
    assert not po.metadata_is_fuzzy
    expected = {"ar": 6, "ja": 1}[language]
    assert plural_rule(po)[0] == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(language: str) -> None:
    po = catalogue(language)
    count, _rule = plural_rule(po)
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    assert untranslated == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    for entry in po:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(count)), entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_has_the_messages_of_the_newest_extraction(language: str) -> None:
    """Every catalogue holds the messages of the one `makemessages` updated last; one that
    differs was not updated since the code or the templates changed."""
    catalogues = {lang: catalogue(lang) for lang in LANGUAGES}
    newest = max(catalogues.values(), key=lambda po: po.metadata["POT-Creation-Date"])

    def messages(po: polib.POFile) -> set[tuple[str, str]]:
        return {key(e) for e in po if not e.obsolete}

    assert sorted(messages(newest) - messages(catalogues[language])) == []
    assert sorted(messages(catalogues[language]) - messages(newest)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_its_original(language: str) -> None:
    po = catalogue(language)
    relaxed = single_number_forms(po)
    problems = []
    for entry in po:
        if not entry.msgid_plural:
            if placeholders(entry.msgstr) != placeholders(entry.msgid):
                problems.append((entry.msgid, entry.msgstr))
            continue
        wanted = placeholders(entry.msgid_plural)
        known = wanted[0] | placeholders(entry.msgid)[0]
        for form, text in entry.msgstr_plural.items():
            named, positional = placeholders(text)
            if form in relaxed:
                if not named <= known or positional - wanted[1]:
                    problems.append((entry.msgid, text))
            elif (named, positional) != wanted:
                problems.append((entry.msgid, text))
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_in_step_with_the_source(language: str) -> None:
    po = catalogue(language)
    mo = polib.mofile(str(locale_file(language, "mo")))

    def messages(entries: list) -> dict[tuple[str, str], object]:
        return {
            key(e): (e.msgid_plural, dict(e.msgstr_plural)) if e.msgid_plural else e.msgstr
            for e in entries
            if e.msgid and (e.msgstr or any(getattr(e, "msgstr_plural", {}).values()))
        }

    translated = [e for e in po if not e.obsolete and not e.fuzzy]
    assert messages(list(mo)) == messages(translated)
    assert mo.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


# Pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_signed_in_page_in_the_language_of_the_cookie_has_its_direction_and_its_navigation(
    alice_client: Client, language: str
) -> None:
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = alice_client.get(reverse("image_list")).content.decode()
    assert root(page) | {"lang": language, "dir": DIRECTIONS[language]} == root(page)
    navigation = re.search(r'<nav\b[^>]*aria-label="([^"]*)"[^>]*>(.*?)</nav>', page, re.DOTALL)
    assert navigation is not None
    po = catalogue(language)
    for english in ["Generate", "My images", "Collections", "Share links"]:
        translated = po.find(english).msgstr
        assert SCRIPTS[language].search(translated), english
        assert translated in navigation[2]
    assert SCRIPTS[language].search(navigation[1])  # the navigation's own label


def test_a_page_asked_for_in_arabic_by_the_browser_is_right_to_left(alice_client: Client) -> None:
    page = alice_client.get(reverse("generate"), headers={"accept-language": "ar"})
    assert root(page.content.decode()) | {"lang": "ar", "dir": "rtl"} == root(page.content.decode())


def test_english_stays_the_default_and_left_to_right(alice_client: Client) -> None:
    page = alice_client.get(reverse("generate")).content.decode()
    assert root(page) | {"lang": "en", "dir": "ltr"} == root(page)
    assert ">My images</a>" in page


class LanguageSwitcher(HTMLParser):
    """The form of a page that picks the language: where it goes, its select of languages, and
    the text of the label that names that select."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.form: dict[str, str] = {}
        self._last_form: dict[str, str] = {}
        self.select_id = ""
        self.labels: dict[str, str] = {}
        self.options: list[str] = []
        self._label_for: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._last_form = values
        elif tag == "select" and values.get("name") == "language":
            self.form = self._last_form
            self.select_id = values.get("id", "")
        elif tag == "option" and self.select_id and len(self.options) < len(settings.LANGUAGES):
            self.options.append(values.get("value", ""))
        elif tag == "label":
            self._label_for = values.get("for", "")
            self.labels[self._label_for] = ""

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self.labels[self._label_for] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None

    @property
    def label(self) -> str:
        return self.labels.get(self.select_id, "").strip()


def switcher_pages(alice: User, make_image) -> dict[str, tuple[Client, str]]:
    image = make_image(alice, prompt=PROMPT)
    link = ShareLink.objects.create(owner=alice, image=image)
    collection = Collection.objects.create(owner=alice, name=COLLECTION)
    collection.images.add(image)
    collection_link = ShareLink.objects.create(owner=alice, collection=collection)
    signed_in, signed_out = CommittingClient(), Client()
    signed_in.force_login(alice)
    return {
        "generate": (signed_in, reverse("generate")),
        "gallery": (signed_in, reverse("image_list")),
        "image": (signed_in, image.get_absolute_url()),
        "share links": (signed_in, reverse("share_list")),
        "shared image": (signed_out, reverse("shared_page", args=[link.token])),
        "shared collection": (signed_out, reverse("shared_page", args=[collection_link.token])),
        "shared image of a collection": (
            signed_out,
            reverse("shared_image", args=[collection_link.token, image.uuid]),
        ),
        "sign in": (signed_out, reverse("login")),
        "sign up": (signed_out, reverse("signup")),
        "not found": (signed_out, "/s/no-such-link/"),
    }


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_every_page_has_a_labelled_language_switcher(
    alice: User, make_image, language: str
) -> None:
    for name, (client, url) in switcher_pages(alice, make_image).items():
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        switcher = LanguageSwitcher(client.get(url).content.decode())
        if url.startswith("/s/") and name != "not found":  # public: asks for the page again
            assert switcher.form == {"action": url, "method": "get", "class": "language-form"}
        else:
            assert switcher.form["action"] == reverse("set_language"), name
            assert switcher.form["method"] == "post", name
        assert switcher.label, name
        assert switcher.options == [code for code, _name in settings.LANGUAGES], name


def test_the_language_switcher_changes_the_language_of_a_signed_out_page(client: Client) -> None:
    page = reverse("login")
    response = client.post(reverse("set_language"), {"language": "ar", "next": page})
    assert response.status_code == 302
    assert response["Location"] == page
    shown = client.get(page).content.decode()
    assert root(shown) | {"lang": "ar", "dir": "rtl"} == root(shown)


def test_a_public_page_switches_language_without_a_token_or_a_cookie(
    alice: User, make_image
) -> None:
    image = make_image(alice, prompt=PROMPT)
    collection = Collection.objects.create(owner=alice, name=COLLECTION)
    collection.images.add(image)
    link = ShareLink.objects.create(owner=alice, collection=collection)
    client = Client()
    response = client.get(reverse("shared_page", args=[link.token]), {"language": "ar"})
    page = response.content.decode()
    assert root(page) | {"lang": "ar", "dir": "rtl"} == root(page)
    assert "csrfmiddlewaretoken" not in page
    assert not response.cookies
    # The choice is kept by the page's links, not stored: the next visit is in English again.
    image_page = reverse("shared_image", args=[link.token, image.uuid]) + "?language=ar"
    assert f'href="{image_page}"' in page
    shown = client.get(image_page).content.decode()
    assert root(shown)["lang"] == "ar"
    assert f'href="{reverse("shared_page", args=[link.token])}?language=ar"' in shown
    again = client.get(reverse("shared_page", args=[link.token])).content.decode()
    assert root(again)["lang"] == "en"


def test_an_unknown_language_asked_of_a_public_page_is_ignored(alice: User, make_image) -> None:
    link = ShareLink.objects.create(owner=alice, image=make_image(alice, prompt=PROMPT))
    page = Client().get(reverse("shared_page", args=[link.token]), {"language": "xx"})
    assert root(page.content.decode())["lang"] == "en"


# The guard against English left in a page


class VisibleText(HTMLParser):
    """What a person sees or hears of a page: its text, title and the attributes shown or read
    out, and the link preview of a shared page. Left out: scripts and styles, code, and whatever
    is marked as not in the page's language: a `lang` of its own (the language menu), `dir="auto"`
    (what people wrote) or `translate="no"` (parameters as sent upstream)."""

    ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "hx-confirm")
    ATTRIBUTES += ("data-copied", "data-label")  # shown by static/js/studio.js
    PREVIEW = ("description", "og:site_name", "og:title", "og:description", "og:image:alt")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    SKIPPED = {"script", "style", "template", "code"}

    def __init__(self, page: str, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, whether its content is left out)
        self.feed(page)

    @property
    def text(self) -> str:
        return "\n".join(part.strip() for part in self.parts if part.strip())

    def _skipping(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        foreign = values.get("lang", self.language) != self.language and tag != "html"
        if not self._skipping() and not foreign:
            self.parts += [values[name] for name in self.ATTRIBUTES if name in values]
            if tag == "meta" and (values.get("name") or values.get("property")) in self.PREVIEW:
                self.parts.append(values.get("content", ""))
        if tag not in self.VOID:
            skip = (
                self._skipping()
                or foreign
                or tag in self.SKIPPED
                or values.get("dir") == "auto"
                or values.get("translate") == "no"
            )
            self._open.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.parts.append(data)


def english_words(text: str, names: list[str]) -> list[str]:
    """Latin-script words in `text`, once known names and sizes (1024x1024) are taken out."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", text)
    text = re.sub(r"\{\w*\}", " ", text)  # a placeholder that JavaScript fills in
    text = re.sub(r"\d+x\d+|(?<![A-Za-z])x(?![A-Za-z])", " ", text)  # 1024x1024, WxH
    return re.findall(r"[A-Za-z]+", text)


@pytest.fixture
def studio(alice: User, make_image) -> dict[str, object]:
    """Alice's studio with something on every page: images, jobs that ended every way, a
    collection and share links."""
    image = make_image(alice, prompt=PROMPT)
    collection = Collection.objects.create(owner=alice, name=COLLECTION)
    collection.images.add(image)
    for status, message, images_failed in [
        (Generation.Status.FAILED, MESSAGES["rate_limited"], 0),
        (Generation.Status.FAILED, REJECTED_WITH_STATUS % {"status": 400}, 0),
        (Generation.Status.SUCCEEDED, DOWNLOAD_FAILED % {"reason": "it took too long"}, 2),
        (Generation.Status.CANCELLED, "Cancelled.", 0),
        (Generation.Status.QUEUED, "", 0),
    ]:
        Generation.objects.create(
            owner=alice,
            model_name="dall-e-3",
            prompt=PROMPT,
            status=status,
            error_message=message,
            images_failed=images_failed,
        )
    generation = image.generation
    generation.usage = {"total_tokens": 4160, "input_tokens": 20, "output_tokens": 4140}
    generation.upstream_ms = 1234
    generation.save()
    return {
        "image": image,
        "collection": collection,
        "image_link": ShareLink.objects.create(owner=alice, image=image),
        "collection_link": ShareLink.objects.create(owner=alice, collection=collection),
    }


def studio_pages(studio: dict[str, object], language: str) -> dict[str, str]:
    """The main pages, signed in and out, including forms showing their errors."""
    image: Image = studio["image"]  # type: ignore[assignment]
    collection: Collection = studio["collection"]  # type: ignore[assignment]
    image_link: ShareLink = studio["image_link"]  # type: ignore[assignment]
    collection_link: ShareLink = studio["collection_link"]  # type: ignore[assignment]
    signed_in, signed_out = CommittingClient(), Client()
    signed_in.force_login(image.owner)
    for client in (signed_in, signed_out):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    custom_size = {"model": "gpt-image-2", "prompt": "", "size": "custom", "width": 1000}
    requests = {
        "generate": (signed_in.get, reverse("generate"), None),
        "generate with errors": (signed_in.post, reverse("generate"), custom_size | {"height": 8}),
        "generation": (signed_in.get, reverse("generation", args=[image.generation_id]), None),
        "gallery": (signed_in.get, reverse("image_list"), None),
        "gallery search": (signed_in.get, reverse("image_list") + "?size=big&q=nothing", None),
        "image": (signed_in.get, image.get_absolute_url(), None),
        "delete image": (signed_in.get, reverse("image_delete", args=[image.uuid]), None),
        "collections": (signed_in.get, reverse("collection_list"), None),
        "collection": (signed_in.get, collection.get_absolute_url(), None),
        "share image": (signed_in.get, reverse("share_create_image", args=[image.uuid]), None),
        "share links": (signed_in.get, reverse("share_list"), None),
        "share link": (signed_in.get, reverse("share_detail", args=[image_link.pk]), None),
        "shared image": (signed_out.get, reverse("shared_page", args=[image_link.token]), None),
        "shared collection": (
            signed_out.get,
            reverse("shared_page", args=[collection_link.token]),
            None,
        ),
        "not found": (signed_out.get, "/s/no-such-link/", None),
        "sign in": (signed_out.get, reverse("login"), None),
        "sign in refused": (
            signed_out.post,
            reverse("login"),
            {"username": "alice", "password": "wrong"},
        ),
        "sign up": (signed_out.get, reverse("signup"), None),
        "sign up refused": (
            signed_out.post,
            reverse("signup"),
            {"username": "alice", "password1": "short", "password2": "other"},
        ),
    }
    pages = {}
    for name, (method, url, data) in requests.items():
        response = method(url, data) if data is not None else method(url)
        assert response.status_code in {200, 404}, name
        pages[name] = response.content.decode()
    return pages


def names_in(studio: dict[str, object]) -> list[str]:
    image: Image = studio["image"]  # type: ignore[assignment]
    models = ImageModel.objects.values_list("name", "label")
    return [
        *NAMES,
        *(value for pair in models for value in pair),
        PROMPT,
        COLLECTION,
        image.owner.get_username(),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_is_left_in_the_main_pages(studio: dict[str, object], language: str) -> None:
    names = names_in(studio)
    left = {}
    for name, page in studio_pages(studio, language).items():
        assert root(page)["lang"] == language, name
        words = english_words(VisibleText(page, language).text, names)
        if words:
            left[name] = " ".join(sorted(set(words)))
    assert not left, "\n".join(f"{name}: {words}" for name, words in left.items())


def test_the_guard_finds_the_english_of_every_english_page(studio: dict[str, object]) -> None:
    names = names_in(studio)
    for name, page in studio_pages(studio, "en").items():
        words = english_words(VisibleText(page, "en").text, names)
        assert len(set(words)) >= 10, name


@pytest.mark.parametrize(
    "error_page",
    [
        lambda request: defaults.bad_request(request, SuspiciousOperation()),
        lambda request: defaults.permission_denied(request, PermissionDenied()),
        lambda request: defaults.page_not_found(request, Http404()),
        defaults.server_error,
    ],
    ids=["400", "403", "404", "500"],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_error_pages_are_translated(db, error_page, language: str) -> None:
    request = RequestFactory().get("/somewhere/")
    with translation.override(language):
        page = error_page(request).content.decode()
    assert root(page)["lang"] == language
    assert english_words(VisibleText(page, language).text, NAMES) == []
    with translation.override("en"):
        page = error_page(request).content.decode()
    assert len(english_words(VisibleText(page, "en").text, NAMES)) >= 5
