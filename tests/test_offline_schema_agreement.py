"""The offline provider accepts exactly what the schema accepts.

For every current shipped model, and for a model an administrator adds, a broad set of options
is made from the model's own schema: each parameter at each choice, at its bounds and one step
outside them, with the wrong type, and the rules' combinations. For each, the request body
builder (`build_request_body`) must refuse it if and only if the offline provider answers 400;
an accepted body must come back as images of the kind and size it asked for.
"""

import base64
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen.catalogue import SHIPPED_MODELS, ModelSpec, Parameter, build_request_body
from imagegen.catalogue import shipped_spec as shipped
from imagegen.models import ImageModel
from imagegen.offline import RETIRED, OfflineProvider, parse_generation

# The provider reads each model's schema from the catalogue's rows, which migrations install.
pytestmark = pytest.mark.django_db

API = "https://api.cometapi.com/v1"
PROMPT = "A lighthouse on a cliff at dawn"
REFERENCE = "https://example.org/reference.png"
CURRENT = [model["name"] for model in SHIPPED_MODELS if model["name"] not in RETIRED]
# 4096x4096 takes about a second to draw: only this model draws it, once.
FOUR_K_MODEL = "doubao-seedream-5-0-260128"
# Sizes above this many pixels are left out (slow to draw), the 4K case apart.
MOST_PIXELS_DRAWN = 9_000_000
NAMED_SIZES = {"auto": (1024, 1024), "2K": (2048, 2048), "4K": (4096, 4096)}
WRONG_SIZES = ["banana", "1024 x 1024", "0x0", "1023x1023", "1025x1023", "8192x8192", "1K"]
# Bodies already answered as asked in this run: many candidates build the same body (an explicit
# default, n=1), and the provider answers a body the same way every time, so it is drawn once.
ANSWERED: set[str] = set()

# A model an administrator adds, with a parameter no code knows.
ADMIN_MODEL: dict[str, Any] = {
    "name": "acme-paint-1",
    "label": "Acme Paint",
    "family": "other",
    "prompt_max_length": 2000,
    "max_images": 4,
    "result_kind": "b64_json",
    "schema": {
        "parameters": [
            {"name": "size", "kind": "size", "label": "Size",
             "choices": ["1024x1024", "1536x1024"], "default": "1024x1024",
             "send_default": True},
            {"name": "guidance_scale", "kind": "number", "label": "Guidance scale",
             "minimum": 1, "maximum": 10, "default": 2.5, "send_default": True},
            {"name": "negative_prompt", "kind": "text", "label": "Avoid", "maximum": 200},
        ],
        "rules": [],
    },
}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """One request a person might make: the options and the prompt."""

    label: str
    options: dict[str, Any] = field(default_factory=dict)
    prompt: str = PROMPT


def spec_of(name: str) -> ModelSpec:
    """The shipped schema; the provider reads the model's row, which test_catalogue shows equal."""
    found = shipped(name)
    assert found is not None, name
    return found


def parse(size: str) -> tuple[int, int] | None:
    """(width, height) for a WxH string, read here rather than by the code under test."""
    match = re.fullmatch(r"([1-9]\d*)x([1-9]\d*)", size)
    return (int(match[1]), int(match[2])) if match else None


def expected_pixels(size: str) -> tuple[int, int] | None:
    """The pixels a size asks for: WxH, or 1024 square for auto, 2048 for 2K, 4096 for 4K."""
    return NAMED_SIZES.get(size) or parse(size)


def admin_spec() -> ModelSpec:
    facts = {key: value for key, value in ADMIN_MODEL.items() if key != "schema"}
    return ModelSpec.from_schema(ADMIN_MODEL["schema"], **facts)


# Making the candidates, from nothing but the schema


def candidates(spec: ModelSpec) -> list[Candidate]:
    """A broad set of requests for one model, each labelled for the test id."""
    # Drawn at the fewest pixels the model allows unless the candidate is about the size.
    quick = quick_size(spec)
    found = [Candidate("defaults")]
    found += [Candidate(c.label, quick | c.options, c.prompt) for c in prompts(spec)]
    found += [Candidate(c.label, quick | c.options) for c in numbers_of_images(spec)]
    for parameter in spec.parameters:
        made = sizes(spec, parameter) if parameter.kind == "size" else values_of(spec, parameter)
        base = {} if parameter.kind == "size" else quick
        found += [Candidate(c.label, base | c.options) for c in made]
    found += [Candidate(c.label, quick | c.options) for c in rule_cases(spec)]
    found += [Candidate(c.label, quick | c.options) for c in combinations()]
    unique: dict[str, Candidate] = {}
    for candidate in found:
        same = unique.setdefault(candidate.label, candidate)
        assert same == candidate, f"two candidates are labelled {candidate.label}"
    return list(unique.values())


def show(value: Any) -> str:
    """A short, distinct label for a value."""
    if value == REFERENCE:
        return "ref"
    if isinstance(value, list) and len(value) > 2 and all(v == value[0] for v in value):
        return f"[{show(value[0])}]*{len(value)}"
    if isinstance(value, list):
        return f"[{','.join(show(v) for v in value)}]"
    if isinstance(value, str) and len(value) > 24:
        return f"<{len(value)} chars>"
    return repr(value)


def labelled(options: dict[str, Any]) -> Candidate:
    return Candidate(",".join(f"{k}={show(v)}" for k, v in options.items()) or "{}", options)


def prompts(spec: ModelSpec) -> list[Candidate]:
    longest = spec.prompt_max_length
    return [
        Candidate("prompt=''", prompt=""),
        Candidate("prompt=spaces", prompt="   "),
        Candidate("prompt=longest", prompt="x" * longest),
        Candidate("prompt=one too long", prompt="x" * (longest + 1)),
        Candidate("prompt=not ascii", prompt="灯塔 au lever du jour"),
    ]


def numbers_of_images(spec: ModelSpec) -> list[Candidate]:
    most = spec.max_images
    values: list[Any] = [1, 2, most, most + 1, 0, -1, "2", 2.0, True, None]
    return [labelled({"n": value}) for value in values]


def enabling(parameter: Parameter) -> dict[str, Any]:
    """The options under which a parameter applies (its `only_when`, first value each)."""
    return {name: allowed[0] for name, allowed in parameter.only_when.items()}


def values_of(spec: ModelSpec, parameter: Parameter) -> list[Candidate]:
    name, kind = parameter.name, parameter.kind
    low, high = parameter.minimum, parameter.maximum
    values: list[Any]
    if kind == "choice":
        values = [*parameter.choices, "not-a-choice", "", 1, True]
    elif kind == "boolean":
        values = [True, False, "yes", "true", 1, 0]
    elif kind == "integer":
        values = [v for v in (low, high) if v is not None]
        values += [low - 1] if low is not None else [-(2**31)]
        values += [high + 1] if high is not None else [2**63]
        values += [str(values[0]), values[0] + 0.5, True, [values[0]]]
    elif kind == "number":
        values = [v for v in (low, high) if v is not None]
        values += [low - 0.01] if low is not None else [-1e9]
        values += [high + 0.01] if high is not None else [1e12]
        if low is not None and high is not None:
            values += [(low + high) / 2, int(low), float(high)]
        values += [str(values[0]), True, None]
    elif kind == "text":
        longest = int(high) if high is not None else 100
        values = ["", "a", "x" * longest, "x" * (longest + 1), 1]
    elif kind == "images":
        most = int(high or 1)
        values = [[REFERENCE], [REFERENCE] * most, [REFERENCE] * (most + 1), []]
        values += [REFERENCE, [""], [1], {"url": REFERENCE}]
    else:
        raise AssertionError(f"no candidates for the kind {kind!r}")
    made = [labelled(enabling(parameter) | {name: value}) for value in values]
    if parameter.only_when:
        # Set while its condition does not hold: the brief's "output_compression with png".
        made += [labelled({name: value}) for value in values[:2]]
    return made


def sizes(spec: ModelSpec, parameter: Parameter) -> list[Candidate]:
    values: list[Any] = [*parameter.choices, *NAMED_SIZES, *WRONG_SIZES, "", 1024]
    if parameter.custom is not None:
        values += custom_sizes(parameter)
    made = []
    for value in values:
        if (value == "4K" and spec.name == FOUR_K_MODEL) or not slow_to_draw(parameter, value):
            made.append(labelled({parameter.name: value}))
    return made


def slow_to_draw(parameter: Parameter, value: Any) -> bool:
    """Whether the model would draw this size, and it has more pixels than we care to draw."""
    pixels = expected_pixels(value) if isinstance(value, str) else None
    if pixels is None or pixels[0] * pixels[1] <= MOST_PIXELS_DRAWN:
        return False
    custom = parameter.custom
    within = custom is not None and parse(value) and custom.problem_with(*pixels) is None
    return value in parameter.choices or bool(within)


def custom_sizes(parameter: Parameter) -> list[str]:
    """WxH sizes at each limit of the model's custom range, and one step past each."""
    limits = parameter.custom
    assert limits is not None
    step = limits.multiple_of

    def up(value: float) -> int:
        return math.ceil(value / step) * step

    def down(value: float) -> int:
        return math.floor(value / step) * step

    edge = down(limits.max_edge)
    short = up(max(edge / limits.max_ratio, limits.min_pixels / edge))
    fewest = up(math.sqrt(limits.min_pixels))
    most = down(math.sqrt(limits.max_pixels))
    found = [
        (edge, short),  # the longest edge at the steepest ratio
        (edge + step, short),  # an edge too long
        (edge, short - step),  # a ratio too steep
        (fewest, fewest),  # the fewest pixels
        (fewest - step, fewest - step),  # too few
        (most, most),  # the most pixels
        (most + step, most),  # too many
    ]
    if step > 1:
        found.append((fewest + 1, fewest))  # not a multiple of the step
    return [f"{width}x{height}" for width, height in found]


def quick_size(spec: ModelSpec) -> dict[str, Any]:
    """The size with the fewest pixels the model takes, so that most candidates draw quickly."""
    size = spec.size
    if size is None:
        return {}
    offered = [s for s in size.choices if s in NAMED_SIZES or parse(s)]
    if size.custom is not None:
        step = size.custom.multiple_of
        side = math.ceil(math.sqrt(size.custom.min_pixels) / step) * step
        offered.append(f"{side}x{side}")
    area = {s: math.prod(expected_pixels(s) or (0, 0)) for s in offered}
    return {"size": min(offered, key=area.__getitem__)}


def rule_cases(spec: ModelSpec) -> list[Candidate]:
    """Each rule just kept and just broken."""
    made = []
    for rule in spec.rules:
        if rule.at_most is not None:
            made += counted(spec, rule.total, rule.at_most)
            continue
        when = {name: allowed[0] for name, allowed in rule.when.items()}
        kept = {name: allowed[0] for name, allowed in rule.then.items()}
        broken = {name: outside(spec, name, allowed) for name, allowed in rule.then.items()}
        made += [labelled(when | kept), labelled(when | broken)]
    return made


def outside(spec: ModelSpec, name: str, allowed: tuple[Any, ...]) -> Any:
    """A valid value of `name` that a rule does not allow."""
    if name == "n":
        return next(n for n in range(1, 100) if n not in allowed)
    parameter = spec.parameter(name)
    assert parameter is not None, name
    if parameter.kind == "boolean":
        return next(value for value in (True, False) if value not in allowed)
    return next(value for value in parameter.choices if value not in allowed)


def counted(spec: ModelSpec, names: tuple[str, ...], at_most: int) -> list[Candidate]:
    """References and images adding up to the limit, and to one more."""
    assert set(names) == {"image", "n"}, f"teach the test to count {names}"
    made = []
    for outputs in (1, 2):
        references = [REFERENCE] * (at_most - outputs)
        made.append(labelled({"image": references, "n": outputs}))
        made.append(labelled({"image": references, "n": outputs + 1}))
    made.append(labelled({"image": [REFERENCE] * 10, "n": 5}))
    made.append(labelled({"image": [REFERENCE] * 10, "n": 6}))
    return made


def combinations() -> list[Candidate]:
    """Pairs the rules of some models are about, tried on every model."""
    pairs: list[dict[str, Any]] = [
        {"background": "transparent", "output_format": "jpeg"},
        {"background": "transparent", "output_format": "webp"},
        {"background": "transparent", "output_format": "gif"},
        {"background": "transparent", "output_format": "svg"},
        {"stream": True, "n": 2},
        {"stream": True, "n": 1, "partial_images": 3},
        {"stream": False, "partial_images": 2},
        {"partial_images": 1},
        {"output_format": "gif", "stream": True},
        {"output_format": "svg", "stream": True},
        {"output_format": "svg", "n": 2},
        {"output_format": "gif", "n": 2, "frame_count": 2},
        {"output_format": "png", "output_compression": 50},
        {"output_format": "png", "output_compression": 100},
        {"output_format": "webp", "output_compression": 0},
        {"output_format": "gif", "output_compression": 50},
        {"output_format": "png", "frame_count": 4},
        {"output_format": "gif", "frame_count": 4, "frame_duration_ms": 100},
        {"output_format": "svg", "frame_duration_ms": 100},
        {"complexity": "low", "output_format": "svg"},
        {"response_format": "b64_json", "n": 2},
        {"style": "vivid"},
        {"seed": 7, "watermark": False},
        {"image": [REFERENCE], "n": 1},
    ]
    return [labelled(options) for options in pairs]


CASES = [
    pytest.param(name, candidate, id=f"{name}:{candidate.label}")
    for name in CURRENT
    for candidate in candidates(spec_of(name))
]
ADMIN_CASES = [pytest.param(c, id=c.label) for c in candidates(admin_spec())]


# Reading what came back


def kind_of(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in {b"GIF87a", b"GIF89a"}:
        return "gif"
    if data.startswith(b"<?xml") and b"<svg" in data[:200]:
        return "svg"
    return "unknown"


def size_of(data: bytes, kind: str) -> tuple[int, int]:
    if kind == "svg":
        match = re.search(rb'<svg [^>]*width="(\d+)" height="(\d+)"', data)
        assert match, data[:200]
        return int(match[1]), int(match[2])
    return Image.open(io.BytesIO(data)).size


def images_in(client: httpx.Client, response: httpx.Response, result: str) -> Iterator[bytes]:
    """The bytes of each image an accepted request got, whether sent inline, by URL or streamed."""
    if response.headers["content-type"] == "text/event-stream":
        blocks = response.read().decode().strip("\n").split("\n\n")
        events = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in blocks]
        assert events[-1]["type"] == "image_generation.completed", events[-1]["type"]
        yield from (base64.b64decode(event["b64_json"], validate=True) for event in events)
        return
    # Besides the image, DALL·E 3 says its revised prompt and Seedream each image's size.
    extras = {"revised_prompt", "size"}
    for item in response.json()["data"]:
        if result == "url":
            assert set(item) - extras == {"url"}
            file = client.get(item["url"])
            assert file.status_code == 200, item["url"]
            yield file.content
        else:
            assert set(item) - extras == {"b64_json"}
            yield base64.b64decode(item["b64_json"], validate=True)


def assert_images_as_asked(
    client: httpx.Client, spec: ModelSpec, body: dict[str, Any], response: httpx.Response
) -> None:
    assert response.status_code == 200, (body, response.text)
    result = body.get("response_format", spec.result_kind)
    kind = body.get("output_format", "png")
    pixels = expected_pixels(str(body.get("size", "auto")))
    images = list(images_in(client, response, result))
    if not body.get("stream"):
        assert len(images) == body["n"]
    for data in images:
        assert kind_of(data) == kind
        assert size_of(data, kind) == pixels
        if kind == "gif":
            assert Image.open(io.BytesIO(data)).n_frames == body["frame_count"]


def assert_refused_like_openai(response: httpx.Response, sent: dict[str, Any]) -> None:
    assert response.status_code == 400, (sent, response.text)
    assert list(response.json()) == ["error"]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert isinstance(error["message"], str) and error["message"]
    assert error["param"] in sent, (error, list(sent))  # it names a parameter that was sent


def assert_agreement(spec: ModelSpec, candidate: Candidate) -> None:
    """The schema refuses the candidate if and only if the offline provider answers 400."""
    with httpx.Client(transport=OfflineProvider(latency=0), base_url=API) as client:
        try:
            body = build_request_body(spec, candidate.prompt, candidate.options)
        except ValueError as refusal:
            # What a client that skips the schema would send: the options as they are.
            given = {k: v for k, v in candidate.options.items() if v is not None}
            raw = {"model": spec.name, "prompt": candidate.prompt} | given
            response = client.post("/images/generations", json=raw)
            assert response.status_code == 400, f"the schema refused ({refusal}); {raw}"
            assert_refused_like_openai(response, raw)
        else:
            key = json.dumps(body, sort_keys=True)
            if key in ANSWERED:
                return
            with client.stream("POST", "/images/generations", json=body) as response:
                response.read()
                assert_images_as_asked(client, spec, body, response)
            ANSWERED.add(key)


# The tests


@pytest.mark.parametrize(("model", "candidate"), CASES)
def test_the_offline_provider_accepts_exactly_what_a_shipped_schema_accepts(
    model: str, candidate: Candidate
) -> None:
    assert_agreement(spec_of(model), candidate)


@pytest.fixture
def admin_model() -> ImageModel:
    model = ImageModel(**ADMIN_MODEL)
    model.full_clean()
    model.save()
    return model


@pytest.mark.parametrize("candidate", ADMIN_CASES)
def test_the_offline_provider_accepts_exactly_what_an_administrators_schema_accepts(
    admin_model: ImageModel, candidate: Candidate
) -> None:
    assert_agreement(admin_model.spec(), candidate)


@pytest.mark.parametrize("model", CURRENT)
def test_every_model_gets_candidates_the_schema_accepts_and_candidates_it_refuses(
    model: str,
) -> None:
    spec = spec_of(model)
    outcomes = []
    for candidate in candidates(spec):
        try:
            build_request_body(spec, candidate.prompt, candidate.options)
            outcomes.append(True)
        except ValueError:
            outcomes.append(False)

    assert outcomes.count(True) >= 10
    assert outcomes.count(False) >= 10


def test_every_current_shipped_model_is_checked_and_no_retired_one() -> None:
    some = {"gpt-image-2", "gpt-image-2.6-flare", "qwen-image", "doubao-seedream-4-5-251128"}

    assert some <= set(CURRENT)
    assert not set(CURRENT) & RETIRED


@pytest.mark.parametrize(
    ("options", "sent"), [({}, 2.5), ({"guidance_scale": 7.5}, 7.5), ({"guidance_scale": 10}, 10)]
)
def test_an_administrators_parameter_no_code_knows_is_sent_and_accepted(
    admin_model: ImageModel, options: dict[str, Any], sent: float
) -> None:
    body = build_request_body(admin_model.spec(), PROMPT, options)

    with httpx.Client(transport=OfflineProvider(latency=0), base_url=API) as client:
        response = client.post("/images/generations", json=body)

    assert body["guidance_scale"] == sent
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 1
    assert parse_generation(body).received["guidance_scale"] == sent


@pytest.mark.parametrize(("value", "bound"), [(10.5, "<= 10"), (0.5, ">= 1"), (11, "<= 10")])
def test_an_administrators_parameter_no_code_knows_is_refused_outside_its_range(
    admin_model: ImageModel, value: float, bound: str
) -> None:
    with pytest.raises(ValueError, match="guidance_scale"):
        build_request_body(admin_model.spec(), PROMPT, {"guidance_scale": value})
    body = {"model": admin_model.name, "prompt": PROMPT, "guidance_scale": value}

    with httpx.Client(transport=OfflineProvider(latency=0), base_url=API) as client:
        response = client.post("/images/generations", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "guidance_scale")
    assert bound in error["message"]


@pytest.mark.parametrize("name", ["user", "safety_identifier"])
def test_a_parameter_named_like_a_field_every_model_takes_is_checked_by_its_schema(
    name: str,
) -> None:
    size = ADMIN_MODEL["schema"]["parameters"][0]
    tag = {"name": name, "kind": "text", "label": "Tag", "maximum": 8}
    model = ImageModel(**ADMIN_MODEL | {"family": "gpt-image"})
    model.schema = {"parameters": [size, tag], "rules": []}
    model.full_clean()
    model.save()

    assert_agreement(model.spec(), labelled({name: "x" * 9}))
