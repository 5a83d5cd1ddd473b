"""Metadata already in an uploaded image, read from real files in each generator's layout."""

import functools
import io
import json
import random
import struct
import time
import zlib
from collections.abc import Callable

import pytest
from PIL import Image, PngImagePlugin

from gallery.embedding import embed_metadata
from gallery.found_metadata import FoundMetadata, read_found_metadata
from tests.metadata_samples import COMFY_GRAPH

A1111_TEXT = (
    "masterpiece, a lighthouse at dusk,\n"
    "oil painting, (dramatic sky:1.2)\n"
    "Negative prompt: blurry, lowres,\n"
    "text, watermark\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
    'Model hash: abc123, Model: sd_xl_base_1.0, Lora hashes: "a: 1, b: 2", Version: v1.7.0'
)
A1111_SETTINGS = {
    "Steps": "20",
    "Sampler": "DPM++ 2M Karras",
    "CFG scale": "7",
    "Seed": "1234",
    "Size": "512x768",
    "Model hash": "abc123",
    "Model": "sd_xl_base_1.0",
    "Lora hashes": "a: 1, b: 2",
    "Version": "v1.7.0",
}
A1111_FIELDS = {
    "source": "automatic1111",
    "prompt": "masterpiece, a lighthouse at dusk,\noil painting, (dramatic sky:1.2)",
    "negative_prompt": "blurry, lowres,\ntext, watermark",
    "model": "sd_xl_base_1.0",
    "settings": A1111_SETTINGS,
}
# The editor's graph of the same workflow, cut to what a reader looks at.
COMFY_WORKFLOW = {
    "last_node_id": 9,
    "last_link_id": 9,
    "nodes": [
        {"id": 5, "type": "EmptyLatentImage", "widgets_values": [512, 768, 1]},
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse, from the editor"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["text, watermark"]},
        {"id": 3, "type": "KSampler", "widgets_values": [42, "fixed", 20, 8, "euler", "normal", 1]},
        {
            "id": 4,
            "type": "CheckpointLoaderSimple",
            "widgets_values": ["dreamshaper_8.safetensors"],
        },
    ],
    "links": [[1, 4, 0, 3, 0, "MODEL"], [4, 6, 0, 3, 1, "CONDITIONING"]],
    "version": 0.4,
}
XMP_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dawn</rdf:li></rdf:Alt></dc:title>'
    "<dc:description><rdf:Alt>"
    '<rdf:li xml:lang="fr">Un port à l\'aube</rdf:li>'
    '<rdf:li xml:lang="x-default">A foggy harbour at dawn, fishing boats</rdf:li>'
    "</rdf:Alt></dc:description>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
    '<?xpacket end="w"?>'
)


def picture() -> Image.Image:
    return Image.linear_gradient("L").resize((32, 24)).convert("RGB")


def encode(fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture().save(out, fmt, **options)
    return out.getvalue()


def png_with(*texts: tuple[str, str], compressed: bool = False) -> bytes:
    """A PNG with text chunks as Pillow writes them: tEXt, or iTXt for text beyond latin-1."""
    info = PngImagePlugin.PngInfo()
    for key, value in texts:
        info.add_text(key, value, zip=compressed)
    return encode("PNG", pnginfo=info)


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_before_image_data(*chunks: bytes) -> bytes:
    data = encode("PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def user_comment(text: str, code: str) -> Image.Exif:
    """EXIF whose UserComment holds `text` as A1111 (through piexif) and others write it."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = {
        "unicode-be": b"UNICODE\x00" + text.encode("utf-16-be"),  # piexif, so A1111 and Forge
        "unicode-le": b"UNICODE\x00" + text.encode("utf-16-le"),
        "ascii": b"ASCII\x00\x00\x00" + text.encode(),
    }[code]
    return exif


def comfyui_png(graph: object = None, workflow: object = None) -> bytes:
    texts = [(key, json.dumps(value)) for key, value in (("prompt", graph), ("workflow", workflow))]
    return png_with(*[(key, text) for key, text in texts if text != "null"])


def our_document(prompt: str) -> dict:
    return {
        "app": {"name": "image-studio", "version": "0.1.0"},
        "model": "dall-e-3",
        "prompt": prompt,
        "revised_prompt": "A fox, with snow: falling",
        "parameters": {"size": "1024x1024", "quality": "hd"},
        "width": 32,
        "height": 24,
        "created": "2026-05-01T12:00:00+00:00",
    }


@functools.cache
def deflated_bomb() -> bytes:
    """100 MB of text in about 100 KB of deflate."""
    compressor = zlib.compressobj(9)
    block = b"a" * (1 << 20)
    return b"".join(compressor.compress(block) for _ in range(100)) + compressor.flush()


# AUTOMATIC1111 and Forge
@pytest.mark.parametrize("compressed", [False, True], ids=["tEXt", "zTXt"])
def test_it_reads_the_a1111_parameters_chunk_of_a_png(compressed: bool) -> None:
    found = read_found_metadata(png_with(("parameters", A1111_TEXT), compressed=compressed))

    assert found == FoundMetadata(**A1111_FIELDS, raw={"png:parameters": A1111_TEXT})
    assert list(found.settings) == list(A1111_SETTINGS)  # in the order they were written


@pytest.mark.parametrize("compressed", [False, True], ids=["iTXt", "iTXt-compressed"])
def test_it_reads_parameters_beyond_latin_1_from_an_itxt_chunk(compressed: bool) -> None:
    text = "海辺の猫, 夕暮れ\nSteps: 30, Sampler: Euler a, CFG scale: 5.5, Model: animagine-xl"

    found = read_found_metadata(png_with(("parameters", text), compressed=compressed))

    assert found.prompt == "海辺の猫, 夕暮れ"
    assert found.model == "animagine-xl"
    assert found.settings == {
        "Steps": "30",
        "Sampler": "Euler a",
        "CFG scale": "5.5",
        "Model": "animagine-xl",
    }


@pytest.mark.parametrize("code", ["unicode-be", "unicode-le", "ascii"])
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_it_reads_the_a1111_text_from_the_exif_user_comment(fmt: str, code: str) -> None:
    found = read_found_metadata(encode(fmt, exif=user_comment(A1111_TEXT, code)))

    assert found == FoundMetadata(**A1111_FIELDS, raw={"exif:UserComment": A1111_TEXT})


def test_a_japanese_user_comment_in_big_endian_utf_16_is_not_read_backwards() -> None:
    text = "一面の菜の花畑, 水彩\nSteps: 20, Sampler: Euler, CFG scale: 7"

    found = read_found_metadata(encode("JPEG", exif=user_comment(text, "unicode-be")))

    assert (found.source, found.prompt) == ("automatic1111", "一面の菜の花畑, 水彩")


def test_a_quoted_value_keeps_its_commas_colons_and_escaped_quotes() -> None:
    text = (
        "a cat\n"
        'Steps: 20, Template: "a \\"quoted\\" word, with: colons", Seed: 7, '
        'Broken: "not closed, CFG scale: 6'
    )

    found = read_found_metadata(png_with(("parameters", text)))

    assert found.settings == {
        "Steps": "20",
        "Template": 'a "quoted" word, with: colons',
        "Seed": "7",
        "Broken": '"not closed',
        "CFG scale": "6",
    }


def test_without_a_negative_prompt_every_line_before_the_settings_is_prompt() -> None:
    text = "a cat\n  on a velvet sofa  \nSteps: 20, Sampler: Euler a, CFG scale: 7"

    found = read_found_metadata(png_with(("parameters", text)))

    assert found.prompt == "a cat\non a velvet sofa"
    assert found.negative_prompt == ""
    assert found.model == ""
    assert found.settings == {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7"}


def test_a_last_line_that_is_not_settings_belongs_to_the_prompt() -> None:
    text = "a cat\nSteps: 20, Sampler: Euler a\nlit by candles, warm"

    found = read_found_metadata(png_with(("parameters", text)))

    assert found.prompt == "a cat\nSteps: 20, Sampler: Euler a\nlit by candles, warm"
    assert found.settings == {}


def test_an_empty_prompt_with_only_a_negative_and_settings() -> None:
    text = "Negative prompt: ugly\nSteps: 4, Sampler: LCM, CFG scale: 1"

    found = read_found_metadata(png_with(("parameters", text)))

    assert (found.prompt, found.negative_prompt) == ("", "ugly")
    assert found.settings == {"Steps": "4", "Sampler": "LCM", "CFG scale": "1"}


def test_a_user_comment_without_the_a1111_layout_is_read_as_exif() -> None:
    exif = user_comment("Holiday in Lisbon, 2019", "unicode-be")

    found = read_found_metadata(encode("JPEG", exif=exif))

    assert found == FoundMetadata(
        "exif",
        prompt="Holiday in Lisbon, 2019",
        raw={"exif:UserComment": "Holiday in Lisbon, 2019"},
    )


# ComfyUI
def test_it_follows_a_comfyui_graph_from_the_sampler_to_the_prompts() -> None:
    data = comfyui_png(COMFY_GRAPH, COMFY_WORKFLOW)

    found = read_found_metadata(data)

    assert found == FoundMetadata(
        "comfyui",
        prompt="beautiful scenery, purple galaxy bottle",
        negative_prompt="text, watermark",
        model="v1-5-pruned-emaonly.safetensors",
        settings={
            "Seed": "156680208700286",
            "Steps": "20",
            "CFG scale": "8",
            "Sampler": "euler",
            "Scheduler": "normal",
            "Denoising strength": "1",
            "Size": "512x768",
        },
        raw={"png:prompt": json.dumps(COMFY_GRAPH), "png:workflow": json.dumps(COMFY_WORKFLOW)},
    )


def test_it_follows_conditioning_nodes_and_a_text_linked_to_a_string_node() -> None:
    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "2": {
            "class_type": "KSamplerAdvanced",
            "inputs": {
                "noise_seed": 99,
                "steps": 28,
                "cfg": 3.5,
                "model": ["1", 0],
                "positive": ["10", 0],
                "negative": ["7", 0],
            },
        },
        "10": {
            "class_type": "ControlNetApply",
            "inputs": {"conditioning": ["6", 0], "control_net": ["11", 0], "strength": 0.8},
        },
        "11": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.pth"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": ["13", 0], "clip": ["12", 0]}},
        "13": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a fox in the snow"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["12", 0]}},
        "12": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5xxl.safetensors"}},
    }

    found = read_found_metadata(comfyui_png(graph))

    assert (found.source, found.prompt, found.negative_prompt) == (
        "comfyui",
        "a fox in the snow",
        "",
    )
    assert found.model == "flux1-dev.safetensors"
    assert found.settings == {"Seed": "99", "Steps": "28", "CFG scale": "3.5"}


def test_a_workflow_without_the_api_graph_gives_its_first_prompt_and_checkpoint() -> None:
    found = read_found_metadata(comfyui_png(workflow=COMFY_WORKFLOW))

    assert found == FoundMetadata(
        "comfyui",
        prompt="a lighthouse, from the editor",
        model="dreamshaper_8.safetensors",
        raw={"png:workflow": json.dumps(COMFY_WORKFLOW)},
    )


def test_a_malformed_comfyui_graph_with_cyclic_links_is_read_as_far_as_it_goes() -> None:
    graph = {
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "positive": ["6", 0],
                "negative": ["7", 0],
                "seed": [1, 2, 3],
                "steps": "x",
                "cfg": None,
                "latent_image": ["11", 0],
            },
        },
        "6": {"class_type": "ConditioningCombine", "inputs": {"c1": ["7", 0], "c2": ["6", 0]}},
        "7": {"class_type": "Reroute", "inputs": {"input": ["6", 0], "more": [True, 0]}},
        "8": "not a node",
        "9": {"class_type": 5, "inputs": {"text": "not reached"}},
        "10": {"class_type": "CheckpointLoaderSimple", "inputs": ["ckpt_name"]},
        "11": {"class_type": "EmptyLatentImage", "inputs": {"width": "512", "height": 512}},
    }
    workflow = {"nodes": [{"type": "CLIPTextEncode", "widgets_values": []}, 7, None]}

    found = read_found_metadata(comfyui_png(graph, workflow))

    assert found == FoundMetadata(
        "comfyui",
        settings={"Steps": "x"},
        raw={"png:prompt": json.dumps(graph), "png:workflow": json.dumps(workflow)},
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("[1, 2, 3]", id="a-list"),
        pytest.param('{"1": [1], "2": {"inputs": {}}}', id="no-class-types"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-too-deep"),
    ],
)
def test_a_prompt_chunk_that_is_no_graph_is_kept_raw_only(text: str) -> None:
    found = read_found_metadata(png_with(("prompt", text)))

    assert found == FoundMetadata("", raw={"png:prompt": text[:65536]})


# InvokeAI
@pytest.mark.parametrize(
    "model",
    [
        pytest.param({"key": "9f1c", "name": "Juggernaut XL v9", "base": "sdxl"}, id="4.x"),
        pytest.param({"model_name": "Juggernaut XL v9", "base_model": "sdxl"}, id="3.x"),
    ],
)
def test_it_reads_invokeai_metadata(model: dict) -> None:
    metadata = {
        "generation_mode": "txt2img",
        "positive_prompt": "a cozy cabin in the woods, winter",
        "negative_prompt": "blurry, lowres",
        "width": 1024,
        "height": 1024,
        "seed": 3567112098,
        "rand_device": "cpu",
        "cfg_scale": 7.5,
        "steps": 30,
        "scheduler": "dpmpp_2m_k",
        "model": model,
        "app_version": "4.2.0",
    }
    texts = [("invokeai_metadata", json.dumps(metadata)), ("invokeai_graph", '{"id": "g"}')]

    found = read_found_metadata(png_with(*texts))

    assert found == FoundMetadata(
        "invokeai",
        prompt="a cozy cabin in the woods, winter",
        negative_prompt="blurry, lowres",
        model="Juggernaut XL v9",
        settings={
            "Seed": "3567112098",
            "Steps": "30",
            "CFG scale": "7.5",
            "Scheduler": "dpmpp_2m_k",
            "Size": "1024x1024",
            "Generation mode": "txt2img",
        },
        raw={"png:invokeai_metadata": json.dumps(metadata), "png:invokeai_graph": '{"id": "g"}'},
    )


def test_it_reads_the_legacy_invokeai_sd_metadata() -> None:
    metadata = {
        "model": "stable diffusion",
        "model_weights": "stable-diffusion-1.5",
        "app_id": "invoke-ai/InvokeAI",
        "app_version": "2.3.0",
        "image": {
            "prompt": [{"prompt": "a red bicycle leaning on a wall", "weight": 1.0}],
            "steps": 50,
            "cfg_scale": 7.5,
            "height": 512,
            "width": 640,
            "seed": 4196043233,
            "type": "txt2img",
            "sampler": "k_lms",
            "variations": [],
        },
    }
    dream = '"a red bicycle leaning on a wall" -s 50 -S 4196043233 -W 640 -H 512 -C 7.5 -A k_lms'

    found = read_found_metadata(png_with(("Dream", dream), ("sd-metadata", json.dumps(metadata))))

    assert found == FoundMetadata(
        "invokeai",
        prompt="a red bicycle leaning on a wall",
        model="stable-diffusion-1.5",
        settings={
            "Seed": "4196043233",
            "Steps": "50",
            "CFG scale": "7.5",
            "Sampler": "k_lms",
            "Size": "640x512",
            "Generation mode": "txt2img",
        },
        raw={"png:Dream": dream, "png:sd-metadata": json.dumps(metadata)},
    )


# XMP and EXIF
def xmp_file(fmt: str, packet: str) -> bytes:
    if fmt == "PNG":  # as Adobe writes it: iTXt, keyword XML:com.adobe.xmp
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet)
        return encode("PNG", pnginfo=info)
    return encode(fmt, xmp=packet.encode())  # a JPEG APP1 segment, a WebP "XMP " chunk


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_reads_the_xmp_description_and_title(fmt: str) -> None:
    found = read_found_metadata(xmp_file(fmt, XMP_PACKET))

    assert found == FoundMetadata(
        "xmp",
        prompt="A foggy harbour at dawn, fishing boats",
        settings={"Title": "Harbour at dawn"},
        raw={"xmp": XMP_PACKET},
    )


def test_xmp_with_a_dtd_is_never_parsed_but_kept_raw() -> None:
    packet = XMP_PACKET.replace(
        "<x:xmpmeta",
        '<!DOCTYPE x:xmpmeta [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><x:xmpmeta',
    ).replace("A foggy harbour", "&b;&b;&b;")

    found = read_found_metadata(xmp_file("JPEG", packet))

    assert found == FoundMetadata("", raw={"xmp": packet})


@pytest.mark.parametrize(
    ("tag", "value", "key"),
    [
        pytest.param(0x010E, "A foggy harbour at dawn", "exif:ImageDescription", id="ascii"),
        pytest.param(0x010E, "Café crème, 東京".encode(), "exif:ImageDescription", id="utf-8"),
        pytest.param(0x9C9C, "Café crème, 東京".encode("utf-16-le") + b"\0\0", "exif:XPComment"),
    ],
)
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_it_reads_an_exif_description(fmt: str, tag: int, value: str | bytes, key: str) -> None:
    exif = Image.Exif()
    exif[tag] = value
    expected = value if isinstance(value, str) else "Café crème, 東京"

    found = read_found_metadata(encode(fmt, exif=exif))

    assert found == FoundMetadata("exif", prompt=expected, raw={key: expected})


def test_blank_exif_description_is_no_metadata() -> None:
    exif = Image.Exif()
    exif[0x010E] = " " * 31

    assert read_found_metadata(encode("JPEG", exif=exif)) == FoundMetadata("")


def test_a_comfyui_graph_wins_over_a_parameters_chunk_and_both_are_kept() -> None:
    data = png_with(("parameters", A1111_TEXT), ("prompt", json.dumps(COMFY_GRAPH)))

    found = read_found_metadata(data)

    assert (found.source, found.prompt) == ("comfyui", "beautiful scenery, purple galaxy bottle")
    assert found.raw == {"png:parameters": A1111_TEXT, "png:prompt": json.dumps(COMFY_GRAPH)}


def test_xmp_wins_over_an_exif_description_and_both_are_kept() -> None:
    exif = Image.Exif()
    exif[0x010E] = "SONY DSC"

    found = read_found_metadata(encode("JPEG", exif=exif, xmp=XMP_PACKET.encode()))

    assert (found.source, found.prompt) == ("xmp", "A foggy harbour at dawn, fishing boats")
    assert found.raw == {"exif:ImageDescription": "SONY DSC", "xmp": XMP_PACKET}


# Comments
@pytest.mark.parametrize(("fmt", "key"), [("GIF", "gif:comment"), ("JPEG", "jpeg:comment")])
def test_a_plain_comment_is_read_as_the_prompt(fmt: str, key: str) -> None:
    found = read_found_metadata(encode(fmt, comment="A hand-drawn cat, in crayon"))

    assert found == FoundMetadata(
        "comment", prompt="A hand-drawn cat, in crayon", raw={key: "A hand-drawn cat, in crayon"}
    )


# Our own
@pytest.mark.parametrize(
    ("fmt", "original"),
    [
        ("png", lambda: encode("PNG")),
        ("jpeg", lambda: encode("JPEG")),
        ("webp", lambda: encode("WEBP")),
        ("gif", lambda: encode("GIF", transparency=0)),  # GIF89a, which carries comments
    ],
)
def test_our_own_document_wins_over_the_a1111_text_we_write_beside_it(
    fmt: str, original: Callable[[], bytes]
) -> None:
    prompt = "A red fox in the snow, 35mm photo"
    parameters = f"{prompt}\nModel: dall-e-3, Size: 32x24, Quality: hd, Generation: 12"

    found = read_found_metadata(embed_metadata(original(), fmt, parameters, our_document(prompt)))

    assert (found.source, found.prompt, found.negative_prompt) == ("image-studio", prompt, "")
    assert found.model == "dall-e-3"
    assert found.settings == {
        "Size": "32x24",
        "Quality": "hd",
        "Revised prompt": "A fox, with snow: falling",
    }
    expected_raw = {
        "png": {"png:parameters", "png:imagegen"},
        "jpeg": {"exif:ImageDescription", "exif:UserComment", "xmp"},
        "webp": {"exif:ImageDescription", "exif:UserComment", "xmp"},
        "gif": {"gif:comment"},
    }[fmt]
    assert set(found.raw) == expected_raw


def test_our_long_document_is_found_in_a_jpegs_extended_xmp() -> None:
    prompt = "海辺の猫" * 8000  # 96 KB of UTF-8: the packet is over one segment's 64 KB
    data = embed_metadata(encode("JPEG"), "jpeg", prompt, our_document(prompt))

    found = read_found_metadata(data)

    assert (found.source, found.prompt) == ("image-studio", prompt)
    assert found.raw["xmp:extended"].startswith('<x:xmpmeta xmlns:x="adobe:ns:meta/">')
    assert len(found.raw["xmp:extended"].encode()) <= 65536


# Damaged, hostile and empty files
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(range(256)) * 64, id="garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png-signature-only"),
        pytest.param(b"\xff\xd8\xff\xe1\x00\x01Exif", id="jpeg-length-below-two"),
        pytest.param(b"\xff\xd8" + b"\xff" * 100_000, id="jpeg-fill-bytes"),
        pytest.param(b"RIFF\xff\xff\xff\xffWEBPEXIF\x08\x00\x00\x00II*\x00", id="webp-lies"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif-cut-short"),
    ],
)
def test_damaged_files_give_what_can_be_read_and_never_raise(data: bytes) -> None:
    found = read_found_metadata(data)

    assert found.source == ""
    assert found.prompt == found.model == ""


def test_a_png_that_lies_about_a_text_chunks_length_gives_what_is_there() -> None:
    data = b"\x89PNG\r\n\x1a\n\xff\xff\xff\xfftEXtparameters\x00a cat"

    assert read_found_metadata(data) == FoundMetadata(
        "automatic1111", prompt="a cat", raw={"png:parameters": "a cat"}
    )


def test_a_png_cut_in_its_image_data_still_gives_its_text() -> None:
    data = png_with(("parameters", A1111_TEXT))

    found = read_found_metadata(data[: data.index(b"IDAT") + 10])

    assert found == FoundMetadata(**A1111_FIELDS, raw={"png:parameters": A1111_TEXT})


def test_text_after_the_image_data_is_found_too() -> None:
    data = encode("PNG")
    at = data.index(b"IEND") - 4

    found = read_found_metadata(data[:at] + png_chunk(b"tEXt", b"Comment\x00late") + data[at:])

    assert found == FoundMetadata("", raw={"png:Comment": "late"})


def test_a_picture_too_large_to_decode_still_gives_its_text() -> None:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # 10 gigapixels
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"tEXt", b"parameters\x00a cat\nSteps: 1, Sampler: Euler, CFG scale: 1")
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + png_chunk(b"IEND", b"")
    )

    found = read_found_metadata(data)

    assert (found.source, found.prompt) == ("automatic1111", "a cat")


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param(lambda bomb: png_chunk(b"zTXt", b"parameters\x00\x00" + bomb), id="zTXt"),
        pytest.param(
            lambda bomb: png_chunk(b"iTXt", b"parameters\x00\x01\x00\x00\x00" + bomb), id="iTXt"
        ),
    ],
)
def test_a_compressed_text_bomb_is_inflated_no_further_than_the_limit(
    chunk: Callable[[bytes], bytes],
) -> None:
    data = png_before_image_data(chunk(deflated_bomb()))
    started = time.monotonic()

    found = read_found_metadata(data)

    assert time.monotonic() - started < 1
    # Over the parsing limit: kept raw only, clipped.
    assert found == FoundMetadata("", raw={"png:parameters": "a" * 65536})


def test_a_long_text_is_kept_raw_clipped_on_a_character_boundary_and_not_parsed() -> None:
    text = "猫" * 400_000 + "\nSteps: 1, Sampler: Euler, CFG scale: 1"  # 1.2 MB of UTF-8

    found = read_found_metadata(png_with(("parameters", text)))

    assert found.source == ""
    assert found.raw["png:parameters"] == "猫" * 21845  # 65,535 bytes: a 3-byte character cut


def test_at_most_32_texts_are_kept() -> None:
    chunks = [png_chunk(b"tEXt", b"note%d\x00text %d" % (i, i)) for i in range(40)]

    found = read_found_metadata(png_before_image_data(*chunks))

    assert list(found.raw) == [f"png:note{i}" for i in range(32)]


def test_texts_with_the_same_name_are_all_kept() -> None:
    data = png_before_image_data(
        png_chunk(b"tEXt", b"Comment\x00first"), png_chunk(b"tEXt", b"Comment\x00second")
    )

    assert read_found_metadata(data).raw == {"png:Comment": "first", "png:Comment#2": "second"}


@pytest.mark.filterwarnings("ignore:.*:UserWarning:PIL.TiffImagePlugin")  # Pillow on bad EXIF
def test_mangled_copies_of_every_sample_never_raise() -> None:
    samples = [
        png_with(("parameters", A1111_TEXT), compressed=True),
        comfyui_png(COMFY_GRAPH, COMFY_WORKFLOW),
        encode("JPEG", exif=user_comment(A1111_TEXT, "unicode-be")),
        encode("WEBP", exif=user_comment(A1111_TEXT, "unicode-le")),
        xmp_file("JPEG", XMP_PACKET),
        encode("GIF", comment="a cat"),
    ]
    rng = random.Random(20260501)
    for sample in samples:
        for _ in range(150):
            mangled = bytearray(sample[: rng.randrange(len(sample) + 1)])
            for _ in range(rng.randrange(1, 8)):
                if mangled:
                    mangled[rng.randrange(len(mangled))] = rng.randrange(256)

            found = read_found_metadata(bytes(mangled))

            assert len(found.raw) <= 32
            assert all(len(text.encode()) <= 65536 for text in found.raw.values())


# The search index
def test_the_search_text_holds_the_prompts_the_model_and_the_settings() -> None:
    found = read_found_metadata(png_with(("parameters", A1111_TEXT)))

    lines = found.search_text().splitlines()

    assert lines[:5] == [
        "masterpiece, a lighthouse at dusk,",
        "oil painting, (dramatic sky:1.2)",
        "blurry, lowres,",
        "text, watermark",
        "sd_xl_base_1.0",
    ]
    assert lines[5:] == list(A1111_SETTINGS.values())


def test_the_search_text_leaves_out_empty_fields() -> None:
    found = FoundMetadata("exif", prompt="a harbour", settings={"Title": "Dawn"})

    assert found.search_text() == "a harbour\nDawn"
