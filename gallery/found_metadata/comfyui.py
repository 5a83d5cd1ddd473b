"""ComfyUI: the PNG `prompt` chunk (the API graph) and `workflow` chunk (the editor's graph).

The API graph maps node ids to {"class_type", "inputs"}; an input that comes from another node is
a link, [node_id, output_index]. The prompts are found from the first KSampler's `positive` and
`negative` inputs, followed back to the text they encode; the editor's graph is only used for
what the API graph does not give (its first CLIPTextEncode's text, its first checkpoint).
Graphs from other hands can be anything: every value's type is checked, at most MAX_NODES nodes
are looked at, and each walk visits a node once, so cyclic links end.
"""

from itertools import islice

from gallery.found_metadata.result import FoundMetadata, Texts, load_json, pick, size, string

MAX_NODES = 2000
# Inputs that hold the text itself, on CLIPTextEncode (SDXL: text_g) and on string nodes.
TEXT_INPUTS = ("text", "text_g", "string", "value")
SAMPLER_SETTINGS = (
    ("seed", "Seed"),
    ("noise_seed", "Seed"),  # KSamplerAdvanced
    ("steps", "Steps"),
    ("cfg", "CFG scale"),
    ("sampler_name", "Sampler"),
    ("scheduler", "Scheduler"),
    ("denoise", "Denoising strength"),
)

Node = dict[str, object]


def read(texts: Texts) -> FoundMetadata | None:
    nodes = _api_nodes(load_json(texts.get("png:prompt")))
    editor = _editor_nodes(load_json(texts.get("png:workflow")))
    if not (nodes or editor):
        return None
    prompt = negative = ""
    settings: dict[str, str] = {}
    sampler = next((n for n in nodes.values() if _is_sampler(n)), None)
    if sampler is not None:
        inputs = _inputs(sampler)
        prompt = _text(nodes, inputs.get("positive"))
        negative = _text(nodes, inputs.get("negative"))
        settings = pick(inputs, SAMPLER_SETTINGS)
        latent_id = _target(inputs.get("latent_image"))
        latent = _inputs(nodes.get(latent_id)) if latent_id else {}
        if found_size := size(latent.get("width"), latent.get("height")):
            settings["Size"] = found_size
    return FoundMetadata(
        "comfyui",
        prompt=prompt or _first_widget(editor, "CLIPTextEncode"),
        negative_prompt=negative,
        model=_model(nodes) or _first_widget(editor, "CheckpointLoader"),
        settings=settings,
    )


def _api_nodes(graph: object) -> dict[str, Node]:
    if not isinstance(graph, dict):
        return {}
    return {
        str(node_id): node
        for node_id, node in islice(graph.items(), MAX_NODES)
        if isinstance(node, dict) and isinstance(node.get("class_type"), str)
    }


def _editor_nodes(workflow: object) -> list[Node]:
    nodes = workflow.get("nodes") if isinstance(workflow, dict) else None
    if not isinstance(nodes, list):
        return []
    return [node for node in islice(nodes, MAX_NODES) if isinstance(node, dict)]


def _inputs(node: object) -> dict[str, object]:
    inputs = node.get("inputs") if isinstance(node, dict) else None
    return inputs if isinstance(inputs, dict) else {}


def _target(value: object) -> str | None:
    """The node id a link points at, or None when `value` is not a link."""
    if isinstance(value, list) and len(value) == 2 and type(value[0]) in (str, int):
        return str(value[0])
    return None


def _is_sampler(node: Node) -> bool:
    return "KSampler" in str(node["class_type"]) and "positive" in _inputs(node)


def _text(nodes: dict[str, Node], link: object) -> str:
    """The text a conditioning link leads back to, through any nodes in between.

    Depth first, the text inputs first: CLIPTextEncode's `text` may itself be a link to a
    string node. Each node is visited once.
    """
    stack: list[object] = [link]
    seen: set[str] = set()
    while stack:
        node_id = _target(stack.pop())
        if node_id is None or node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        inputs = _inputs(nodes[node_id])
        for name in TEXT_INPUTS:
            value = inputs.get(name)
            if isinstance(value, str):
                return value
        # Pushed in reverse, so that the first input (conditioning, say) is followed first.
        stack += reversed([value for name, value in inputs.items() if name not in TEXT_INPUTS])
        stack += reversed([inputs[name] for name in TEXT_INPUTS if name in inputs])
    return ""


def _model(nodes: dict[str, Node]) -> str:
    for class_part, name in (("CheckpointLoader", "ckpt_name"), ("UNETLoader", "unet_name")):
        for node in nodes.values():
            model = string(_inputs(node).get(name))
            if model and class_part in str(node["class_type"]):
                return model
    return ""


def _first_widget(editor: list[Node], type_part: str) -> str:
    """The first widget value of the first editor node whose type contains `type_part`."""
    for node in editor:
        widgets = node.get("widgets_values")
        if type_part not in string(node.get("type")) or not isinstance(widgets, list):
            continue
        if text := string(next(iter(widgets), None)):
            return text
    return ""
