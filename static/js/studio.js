// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");

// Copy buttons: <button data-copy="#selector" data-copied="Copied">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  const text = "value" in source ? source.value : source.textContent;
  navigator.clipboard.writeText(text.trim()).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Image pages: arrow keys move through the current search, Escape goes back to the grid.
document.addEventListener("keydown", (event) => {
  const nav = document.querySelector("[data-keyboard-nav]");
  if (!nav || event.altKey || event.ctrlKey || event.metaKey) return;
  if (document.querySelector("dialog[open]")) return;  // Escape closes the lightbox first
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const rtl = document.documentElement.dir === "rtl";
  const keys = { ArrowLeft: rtl ? "next" : "previous", ArrowRight: rtl ? "previous" : "next", Escape: "Escape" };
  const link = keys[event.key] && nav.querySelector(`[data-key="${keys[event.key]}"]`);
  if (link) { event.preventDefault(); link.click(); }
});

// The selection count of the gallery (or the Trash: any form marked data-selection).
function updateSelection() {
  const gallery = document.querySelector("[data-selection]");
  const counter = gallery && gallery.querySelector("[data-selected-count]");
  if (!counter) return;
  const count = gallery.querySelectorAll(".tile-select:checked").length;
  counter.textContent = count ? counter.dataset.label.replace("{count}", count) : "";
  const all = gallery.querySelector("[data-select-all]");
  if (all) all.checked = count > 0 && count === gallery.querySelectorAll(".tile-select").length;
}
document.addEventListener("change", (event) => { if (event.target.matches(".tile-select")) updateSelection(); });

// "Select all shown" ticks every tile on the page (pages scrolled in too); Shift+click on a tile's
// box ticks or unticks the whole run from the box clicked before it.
let lastTileBox = null;
document.addEventListener("change", (event) => {
  if (!event.target.matches("[data-select-all]")) return;
  document.querySelectorAll("[data-selection] .tile-select").forEach((box) => { box.checked = event.target.checked; });
  updateSelection();
});
document.addEventListener("click", (event) => {
  const box = event.target.closest && event.target.closest("[data-selection] .tile-select");
  if (!box) return;
  const boxes = [...document.querySelectorAll("[data-selection] .tile-select")];
  if (event.shiftKey && lastTileBox && boxes.includes(lastTileBox)) {
    const [from, to] = [boxes.indexOf(lastTileBox), boxes.indexOf(box)].sort((a, b) => a - b);
    boxes.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
    updateSelection();
  }
  lastTileBox = box;
});
document.addEventListener("htmx:afterSettle", updateSelection);

// The image page's lightbox: the picture's link opens a full-screen <dialog> instead of the
// file (Escape and the close button shut it natively; so does a click anywhere on it).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-lightbox]");
  const dialog = link && document.querySelector(link.dataset.lightbox);
  if (!dialog || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  dialog.showModal();
});
document.addEventListener("click", (event) => {
  if (event.target.matches("dialog.lightbox, dialog.lightbox img")) event.target.closest("dialog").close();
});

// The gallery's search sends only the filters in use, so the address it pushes stays short and
// worth sharing (?q=cat, not ?q=cat&model=&size=…). Without JavaScript the form sends them all.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches(".gallery-filters")) return;
  const form = event.detail.formData;
  const empty = [...form.entries()].filter(([, value]) => value === "").map(([name]) => name);
  for (const name of empty) form.delete(name);
});

// A model field that applies only while others have certain values (the schema's `only_when`,
// carried as data-only-when) is hidden while they do not; without JavaScript it stays visible
// and says when it applies. A field with an error always stays in view.
function applyOnlyWhen() {
  const fields = document.getElementById("model-fields");
  if (!fields) return;
  for (const field of fields.querySelectorAll("[data-only-when]")) {
    const condition = JSON.parse(field.dataset.onlyWhen);
    const holds = Object.entries(condition).every(([name, allowed]) => {
      const control = fields.querySelector(`[name="${CSS.escape(name)}"]`);
      if (!control) return false;
      const value = control.type === "checkbox" ? control.checked : control.value;
      return allowed.some((choice) => String(choice) === String(value));
    });
    field.hidden = !holds && !field.classList.contains("has-error");
  }
}
document.addEventListener("change", (event) => { if (event.target.closest("#model-fields")) applyOnlyWhen(); });
document.addEventListener("htmx:afterSettle", applyOnlyWhen);
document.addEventListener("DOMContentLoaded", applyOnlyWhen);

// Reference slots (includes/references.html): images dropped, pasted or chosen are uploaded to
// the gallery first; the answer is ticked slots, added to the form. The server checks the count
// against the model's limit; here the person is told at once when they pass it.
function referenceArea(element) { return element && element.closest("[data-references]"); }

function uploadReferences(area, files) {
  const images = [...files].filter((file) => file.type.startsWith("image/"));
  const drop = area.querySelector("[data-reference-drop]");
  const status = area.querySelector("[data-reference-status]");
  if (!images.length || !drop) return;
  const body = new FormData();
  images.forEach((file) => body.append("files", file, file.name || "pasted.png"));
  body.append("slots", "1");
  const token = document.querySelector("[name=csrfmiddlewaretoken]");
  status.textContent = "…";
  fetch(drop.dataset.url, { method: "POST", body, headers: { "X-CSRFToken": token ? token.value : "" } })
    .then((response) => response.text())
    .then((html) => {
      area.querySelector("[data-reference-slots]").insertAdjacentHTML("beforeend", html);
      status.textContent = "";
      countReferences(area);
    })
    .catch(() => { status.textContent = "✕"; });
}

function countReferences(area) {
  const limit = Number(area.dataset.limit);
  const chosen = area.querySelectorAll("input[name=reference]:checked");
  const status = area.querySelector("[data-reference-status]");
  if (status) status.textContent = limit && chosen.length > limit ? `${chosen.length} / ${limit}` : "";
  area.classList.toggle("over-limit", Boolean(limit && chosen.length > limit));
}

document.addEventListener("change", (event) => {
  const area = referenceArea(event.target);
  if (!area) return;
  if (event.target.matches("[data-reference-upload]")) {
    uploadReferences(area, event.target.files);
    event.target.value = "";
  } else if (event.target.name === "reference") {
    countReferences(area);
  }
});
document.addEventListener("dragover", (event) => {
  const drop = event.target.closest && event.target.closest("[data-reference-drop]");
  if (!drop) return;
  event.preventDefault();
  drop.classList.add("is-over");
});
document.addEventListener("dragleave", (event) => {
  const drop = event.target.closest && event.target.closest("[data-reference-drop]");
  if (drop) drop.classList.remove("is-over");
});
document.addEventListener("drop", (event) => {
  const drop = event.target.closest && event.target.closest("[data-reference-drop]");
  if (!drop) return;
  event.preventDefault();
  drop.classList.remove("is-over");
  uploadReferences(referenceArea(drop), event.dataTransfer.files);
});
// Pasting an image anywhere on a page with reference slots adds it (text pastes as usual).
document.addEventListener("paste", (event) => {
  const area = document.querySelector("[data-references]");
  const files = event.clipboardData ? [...event.clipboardData.files] : [];
  if (!area || !files.some((file) => file.type.startsWith("image/"))) return;
  event.preventDefault();
  uploadReferences(area, files);
});
// Enter in the picker's search looks, it does not send the generate form.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("[data-picker-search]")) event.preventDefault();
});

// A running job's elapsed seconds tick here, not on the server: its card is only drawn again
// when the job itself changes (includes/job_poller.html).
setInterval(() => {
  const now = Date.now() / 1000;
  document.querySelectorAll("[data-elapsed-since]").forEach((element) => {
    const seconds = Math.max(0, Math.floor(now - Number(element.dataset.elapsedSince)));
    element.textContent = element.dataset.elapsedFormat.replace("{seconds}", seconds.toLocaleString(document.documentElement.lang));
  });
}, 1000);

// The prompt: a live count against the chosen model's limit (#model-fields says which, and is
// swapped with the model), and Ctrl/⌘+Enter sends the form from it.
function countPrompt(prompt) {
  const fields = document.getElementById("model-fields");
  const limit = fields && Number(fields.dataset.promptLimit);
  if (!limit) return;
  let counter = prompt.parentElement.querySelector(".char-count");
  if (!counter) {
    counter = document.createElement("p");
    counter.className = "help char-count";
    prompt.insertAdjacentElement("afterend", counter);
  }
  const format = (n) => n.toLocaleString(document.documentElement.lang);
  counter.textContent = prompt.dataset.countFormat
    .replace("{count}", format(prompt.value.length)).replace("{limit}", format(limit));
  counter.classList.toggle("over", prompt.value.length > limit);
}
function countEveryPrompt() { document.querySelectorAll("textarea[data-prompt]").forEach(countPrompt); }
document.addEventListener("input", (event) => { if (event.target.matches("textarea[data-prompt]")) countPrompt(event.target); });
document.addEventListener("htmx:afterSettle", countEveryPrompt);
document.addEventListener("DOMContentLoaded", countEveryPrompt);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  if (!event.target.matches("textarea[data-prompt]") || !event.target.form) return;
  event.preventDefault();
  event.target.form.requestSubmit();
});

// A job just sent comes into view (on a phone the feed sits below the form); it is marked only
// until it has been shown.
document.addEventListener("htmx:afterSettle", () => {
  const made = document.querySelector("[data-just-made]");
  if (!made) return;
  const box = made.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight - 80) made.scrollIntoView({ block: "start", behavior: "smooth" });
  setTimeout(() => made.removeAttribute("data-just-made"), 1500);
});

// "Compare with other models" lists every model but the one chosen above it.
function hideChosenModelFromComparison() {
  const picker = document.getElementById("id_model");
  document.querySelectorAll("[data-compare-choice]").forEach((item) => {
    const box = item.querySelector("input");
    item.hidden = Boolean(picker) && box.value === picker.value;
    if (item.hidden) box.checked = false;
  });
}
document.addEventListener("change", (event) => { if (event.target.id === "id_model") hideChosenModelFromComparison(); });
document.addEventListener("DOMContentLoaded", hideChosenModelFromComparison);

// On a touch screen, a horizontal swipe on the image (or in its lightbox) moves through the
// current search, as the arrow keys do; from the lightbox the next image opens in its lightbox.
let swipeStart = null;
document.addEventListener("touchstart", (event) => {
  const on = event.touches.length === 1 && event.target.closest("dialog.lightbox, a[data-lightbox]");
  swipeStart = on ? { x: event.touches[0].clientX, y: event.touches[0].clientY, at: Date.now(), inLightbox: Boolean(on.matches("dialog")) } : null;
}, { passive: true });
document.addEventListener("touchend", (event) => {
  const start = swipeStart;
  swipeStart = null;
  const nav = document.querySelector("[data-keyboard-nav]");
  if (!start || !nav) return;
  const touch = event.changedTouches[0];
  const dx = touch.clientX - start.x;
  const dy = touch.clientY - start.y;
  if (Math.abs(dx) < 60 || Math.abs(dx) < 1.5 * Math.abs(dy) || Date.now() - start.at > 1000) return;
  const rtl = document.documentElement.dir === "rtl";
  const older = rtl ? dx > 0 : dx < 0;  // the finger moves the way the pictures scroll
  const link = nav.querySelector(`[data-key="${older ? "next" : "previous"}"]`);
  if (link) window.location.href = link.href + (start.inLightbox ? "#lightbox" : "");
});
document.addEventListener("DOMContentLoaded", () => {
  const dialog = window.location.hash === "#lightbox" && document.querySelector("dialog.lightbox");
  if (dialog) dialog.showModal();
});

// Sign-in and sign-up tell the server the browser's time zone (imagegen/time_zones.py).
document.addEventListener("DOMContentLoaded", () => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  document.querySelectorAll("[data-detect-time-zone]").forEach((input) => { input.value = zone; });
});

// Ratings by key: 1-5 gives that many stars (the same key again takes them away), 0 clears; on an
// image's page for that image, in the gallery for the tile that has the focus.
document.addEventListener("keydown", (event) => {
  if (!/^[0-5]$/.test(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]")) return;
  const tile = event.target.closest(".tile");
  const form = tile ? null : document.querySelector("form.rating");
  if (form) {
    event.preventDefault();
    const button = form.querySelector(`[data-stars="${event.key}"]`);
    if (button) button.click();
    else form.querySelector(".star[aria-pressed=true]")?.click();  // 0: take the rating away
    return;
  }
  const box = tile && tile.querySelector(".tile-select");
  if (!box) return;
  event.preventDefault();
  const current = Number(tile.dataset.rating || 0);
  const stars = Number(event.key) === current ? 0 : Number(event.key);
  const body = new FormData();
  body.set("stars", String(stars));
  const headers = { ...JSON.parse(document.body.getAttribute("hx-headers") || "{}"), "HX-Request": "true" };
  const page = new URL(tile.querySelector("a").href).pathname;  // the image's page: …/images/<uuid>/
  fetch(`${page}rate/`, { method: "POST", body, headers, credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) return;
      tile.dataset.rating = String(stars);
      let badge = tile.querySelector(".tile-rating");
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "tile-rating";
        tile.append(badge);
      }
      badge.textContent = stars ? "★".repeat(stars) : "";
    });
});

// Keyboard triage in the gallery, from a tile's link: arrows move between tiles (up and down to
// the nearest tile in the row above or below; mirrored in Arabic), Space selects, F favourites,
// Delete moves the selection (or this tile) to the Trash.
function tileLinks() { return [...document.querySelectorAll("#gallery .tile > a")]; }
function nearestInRow(links, from, direction) {
  const here = from.getBoundingClientRect();
  const middle = here.left + here.width / 2;
  const rows = links.map((link) => link.getBoundingClientRect())
    .map((box, index) => ({ index, top: box.top, middle: box.left + box.width / 2 }))
    .filter((box) => (direction > 0 ? box.top > here.top + 4 : box.top < here.top - 4));
  if (!rows.length) return null;
  const rowTop = direction > 0 ? Math.min(...rows.map((b) => b.top)) : Math.max(...rows.map((b) => b.top));
  const row = rows.filter((box) => Math.abs(box.top - rowTop) < 4);
  row.sort((a, b) => Math.abs(a.middle - middle) - Math.abs(b.middle - middle));
  return links[row[0].index];
}
document.addEventListener("keydown", (event) => {
  const link = event.target.closest && event.target.closest("#gallery .tile > a");
  if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
  const tile = link.closest(".tile");
  const links = tileLinks();
  const at = links.indexOf(link);
  const rtl = document.documentElement.dir === "rtl";
  let next = null;
  if (event.key === "ArrowRight") next = links[at + (rtl ? -1 : 1)];
  else if (event.key === "ArrowLeft") next = links[at + (rtl ? 1 : -1)];
  else if (event.key === "ArrowDown") next = nearestInRow(links, link, 1);
  else if (event.key === "ArrowUp") next = nearestInRow(links, link, -1);
  else if (event.key === " ") {
    event.preventDefault();
    const box = tile.querySelector(".tile-select");
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    return;
  } else if (event.key === "f" || event.key === "F") {
    event.preventDefault();
    tile.querySelector("button.favourite")?.click();
    return;
  } else if (event.key === "Delete") {
    event.preventDefault();
    trashFromGrid(tile, link, links[at + 1] || links[at - 1]);
    return;
  } else return;
  event.preventDefault();
  if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
});

// Delete in the grid. A selection of other tiles goes by the bulk form (the page comes back, its
// search kept, saying so with "Undo"); this tile alone is replaced in place by a notice with
// "Undo", and the next tile takes the focus, so triage goes on.
function trashFromGrid(tile, link, after) {
  const form = document.getElementById("gallery");
  const chosen = [...form.querySelectorAll(".tile-select:checked")];
  const mine = tile.querySelector(".tile-select");
  if (chosen.some((box) => box !== mine)) {
    if (!mine.checked) { mine.checked = true; }
    form.querySelector("#bulk-action").value = "delete";
    form.requestSubmit(form.querySelector(".bulk-bar button[type=submit]"));
    return;
  }
  const url = new URL(link.href).pathname + "delete/";
  htmx.ajax("POST", url, { target: tile, swap: "outerHTML", values: { in_grid: "1" } })
    .then(() => after?.focus());
}

// The gallery's search box searches as one types (its `input` trigger). Its `change` on leaving
// the box would search a second time, and that late swap closed whatever was opened meanwhile
// ("Save as smart collection", a click away): the form hears `change` from its other fields only.
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches(".gallery-filters input[type=search]")) {
    event.stopPropagation();
  }
}, true);
