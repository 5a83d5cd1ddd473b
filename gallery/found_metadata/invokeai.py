"""InvokeAI: the PNG `invokeai_metadata` chunk (InvokeAI 3 and later) or `sd-metadata` (2.x)."""

from gallery.found_metadata.result import FoundMetadata, Texts, load_json, pick, size, string

SETTINGS = (
    ("seed", "Seed"),
    ("steps", "Steps"),
    ("cfg_scale", "CFG scale"),
    ("scheduler", "Scheduler"),  # InvokeAI 3 and later
    ("sampler", "Sampler"),  # 2.x
)


def read(texts: Texts) -> FoundMetadata | None:
    metadata = load_json(texts.get("png:invokeai_metadata"))
    if isinstance(metadata, dict):
        return _current(metadata)
    legacy = load_json(texts.get("png:sd-metadata"))
    if isinstance(legacy, dict):
        return _legacy(legacy)
    return None


def _current(metadata: dict) -> FoundMetadata:
    model = metadata.get("model")
    if isinstance(model, dict):  # {"name": ...} since 4.0, {"model_name": ...} in 3.x
        model = model.get("name") or model.get("model_name")
    return FoundMetadata(
        "invokeai",
        prompt=string(metadata.get("positive_prompt")),
        negative_prompt=string(metadata.get("negative_prompt")),
        model=string(model),
        settings=_settings(metadata, ("generation_mode", "Generation mode")),
    )


def _legacy(metadata: dict) -> FoundMetadata:
    image = metadata.get("image")
    image = image if isinstance(image, dict) else {}
    prompt = image.get("prompt")
    if isinstance(prompt, list):  # [{"prompt": ..., "weight": ...}], several when blended
        prompt = ", ".join(string(part.get("prompt")) for part in prompt if isinstance(part, dict))
    return FoundMetadata(
        "invokeai",
        prompt=string(prompt),
        model=string(metadata.get("model_weights")),
        settings=_settings(image, ("type", "Generation mode")),
    )


def _settings(source: dict, mode: tuple[str, str]) -> dict[str, str]:
    settings = pick(source, SETTINGS)
    if found_size := size(source.get("width"), source.get("height")):
        settings["Size"] = found_size
    return settings | pick(source, (mode,))
