// The generate form's tools (includes/form_tools.html): presets and the prompt history.
// Progressive enhancement only: without this file every link and button still works.

// A prompt from the history fills the prompt box in place (its link, without JavaScript, opens
// the form with that prompt and its model); the counter follows, the box takes the focus.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-use-prompt]");
  const prompt = document.querySelector("textarea[data-prompt]");
  if (!link || !prompt || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  prompt.value = link.dataset.usePrompt;
  prompt.dispatchEvent(new Event("input", { bubbles: true }));
  const tool = link.closest("details");
  if (tool) tool.open = false;
  prompt.focus();
});

// Applying a preset opens the form with its model and options: the prompt being written goes
// along, so choosing a preset never loses it.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-preset]");
  const prompt = document.querySelector("textarea[data-prompt]");
  if (!link || !prompt || !prompt.value.trim() || event.button !== 0 || event.ctrlKey || event.metaKey) return;
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("prompt", prompt.value);
  link.href = url.toString();
});

// Enter in the preset's name saves the preset, and Enter in the history's search searches:
// neither sends the generate form (Enter elsewhere in it still does).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.isComposing) return;
  if (event.target.matches("#id_preset_name")) {
    event.preventDefault();
    const save = event.target.closest(".preset-save").querySelector("button[formaction]");
    if (save) save.click();
  } else if (event.target.matches("[data-history-search]")) {
    event.preventDefault();
    event.target.dispatchEvent(new Event("search", { bubbles: true }));
  }
});

// "Advanced" stays as the person left it when the model's options are drawn again (a model
// switch swaps them); an error inside it draws it open from the server.
let advancedOpen = false;
document.addEventListener("toggle", (event) => {
  if (event.target.matches && event.target.matches(".advanced-options")) advancedOpen = event.target.open;
}, true);
document.addEventListener("htmx:afterSettle", () => {
  const advanced = document.querySelector("#model-fields .advanced-options");
  if (advanced && advancedOpen) advanced.open = true;
});
