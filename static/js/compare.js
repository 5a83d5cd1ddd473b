// Comparisons: the two-up slider. The page works without this file (the two images side by
// side, a form to choose them); with it the two lie one over the other, and the range input,
// dragging on the images, and the A/B choices move the divider and swap the images in place.
(() => {
  "use strict";

  const clamp = (value) => Math.min(100, Math.max(0, value));

  function enhance(box) {
    const stage = box.querySelector(".two-up-stage");
    const range = box.querySelector("[data-two-up-range]");
    if (!stage || !range) return;
    const show = () => {
      box.style.setProperty("--split", `${range.value}%`);
      range.setAttribute("aria-valuetext", `${range.value}% A`);
    };
    const moveTo = (event) => {
      const rect = stage.getBoundingClientRect();
      let share = (event.clientX - rect.left) / rect.width;
      // In a right-to-left page the range runs from the right, and so does A.
      if (getComputedStyle(box).direction === "rtl") share = 1 - share;
      range.value = String(Math.round(clamp(share * 100)));
      show();
    };
    let dragging = false;
    stage.addEventListener("pointerdown", (event) => {
      dragging = true;
      stage.setPointerCapture(event.pointerId);
      moveTo(event);
      event.preventDefault();
    });
    stage.addEventListener("pointermove", (event) => dragging && moveTo(event));
    const stop = () => {
      dragging = false;
    };
    stage.addEventListener("pointerup", stop);
    stage.addEventListener("pointercancel", stop);
    range.addEventListener("input", show);
    chooseInPlace(box);
    box.classList.add("is-live");
    show();
  }

  // The A and B pickers swap the pictures at once instead of loading the page again.
  function chooseInPlace(box) {
    const form = box.parentElement.querySelector("[data-two-up-choose]");
    if (!form) return;
    form.querySelectorAll("[data-two-up-side]").forEach((select) => {
      select.addEventListener("change", () => {
        const option = select.selectedOptions[0];
        const image = box.querySelector(`[data-two-up-image="${select.dataset.twoUpSide}"]`);
        if (!option || !image) return;
        image.src = option.dataset.src;
        image.width = Number(option.dataset.width);
        image.height = Number(option.dataset.height);
        image.alt = option.dataset.alt;
        const url = new URL(window.location.href);
        url.searchParams.set(select.name, select.value);
        window.history.replaceState(window.history.state, "", url);
      });
    });
    const show = form.querySelector("[data-two-up-show]");
    if (show) show.hidden = true;
  }

  function enhanceAll(root) {
    root.querySelectorAll("[data-two-up]:not(.is-live)").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
  // The grid's body is swapped in by htmx while jobs run and when a winner is picked.
  document.addEventListener("htmx:load", (event) => enhanceAll(event.detail.elt.parentElement || document));
})();
