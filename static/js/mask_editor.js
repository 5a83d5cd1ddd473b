// The image editor's mask painter. Progressive enhancement: without this file the toolbar stays
// hidden, no mask is posted and the whole image is the reference.
//
// The person paints over the image on a canvas of the image's own pixel size. On submit the paint
// becomes the form's `mask` file, a PNG as POST /v1/images/edits reads one: painted pixels fully
// transparent (edit here), every other pixel fully opaque.
(() => {
  const HISTORY = 20;       // undoable steps; older ones are folded into a base canvas
  const PAINTED = 128;      // alpha from which a pixel counts as painted (at least half covered)
  const MIN_DIAMETER = 2;   // a 1 px brush could land on no pixel at least half covered
  const SAMPLE_EDGE = 512;  // longest side of the copy the painted share is measured on
  const TEXT_FIELD = "textarea, select, input:not([type=range], [type=checkbox], [type=radio], " +
    "[type=button], [type=submit], [type=reset], [type=file], [type=color], [type=image])";

  // One pixel of a colour as the 32-bit word ImageData holds it, whatever the byte order.
  function word(context, colour) {
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = colour;
    context.fillRect(0, 0, 1, 1);
    return new Uint32Array(context.getImageData(0, 0, 1, 1).data.buffer)[0];
  }

  // Every pixel of the box becomes fully painted or fully clear (`flip` swaps the two), so what
  // is shown tinted is exactly what the mask will say: no faint antialiased edges or eraser
  // leftovers that would count in one and not be seen in the other.
  function settle(context, [x, y, w, h], paint, flip = false) {
    const image = context.getImageData(x, y, w, h);
    const bytes = image.data;
    const words = new Uint32Array(bytes.buffer);
    for (let i = 0; i < words.length; i++) words[i] = (bytes[i * 4 + 3] >= PAINTED) !== flip ? paint : 0;
    context.putImageData(image, x, y);
  }

  // A stroke's points are flat triples (x, y, width factor) in image pixels. Drawing from `from`
  // lets a live stroke add only its new segments; a replay draws it whole, the same way.
  function drawStroke(context, stroke, colour, from = 0) {
    const p = stroke.points;
    const width = (i) => Math.max(MIN_DIAMETER, stroke.size * p[i + 2]);
    context.globalCompositeOperation = stroke.erase ? "destination-out" : "source-over";
    context.fillStyle = context.strokeStyle = colour;
    context.lineCap = "round";
    if (from === 0) {  // the first point is a dot, so a click or a tap paints
      context.beginPath();
      context.arc(p[0], p[1], width(0) / 2, 0, 2 * Math.PI);
      context.fill();
    }
    for (let i = Math.max(from, 3); i < p.length; i += 3) {  // straight joins: fast strokes have no gaps
      context.lineWidth = width(i);
      context.beginPath();
      context.moveTo(p[i - 3], p[i - 2]);
      context.lineTo(p[i], p[i + 1]);
      context.stroke();
    }
    context.globalCompositeOperation = "source-over";
  }

  // The stroke's bounding box in whole pixels, clipped to the canvas.
  function strokeBox(stroke, width, height) {
    const p = stroke.points;
    let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < p.length; i += 3) {
      const reach = Math.max(MIN_DIAMETER, stroke.size * p[i + 2]) / 2 + 2;
      left = Math.min(left, p[i] - reach);
      top = Math.min(top, p[i + 1] - reach);
      right = Math.max(right, p[i] + reach);
      bottom = Math.max(bottom, p[i + 1] + reach);
    }
    const x = Math.max(0, Math.floor(left));
    const y = Math.max(0, Math.floor(top));
    const w = Math.min(width, Math.ceil(right)) - x;
    const h = Math.min(height, Math.ceil(bottom)) - y;
    return [x, y, Math.max(1, w), Math.max(1, h)];
  }

  // The mask file, encoded at once on purpose: toBlob and convertToBlob wait for idle time, which
  // headless Chromium was seen to put off for up to seven seconds, the button doing nothing.
  function maskFile(image) {
    const canvas = Object.assign(document.createElement("canvas"), { width: image.width, height: image.height });
    canvas.getContext("2d").putImageData(image, 0, 0);
    const base64 = canvas.toDataURL("image/png").split(",")[1];
    if (!base64) throw new Error("The mask could not be encoded.");  // "data:," when out of memory
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return new File([bytes], "mask.png", { type: "image/png" });
  }

  function typing(target) {
    return target.isContentEditable || (target.matches && target.matches(TEXT_FIELD));
  }

  function setUp(editor) {
    const form = editor.closest("[data-edit-form]");
    const stage = editor.querySelector(".mask-stage");
    const canvas = editor.querySelector("[data-mask-canvas]");
    const toolbar = editor.querySelector(".mask-toolbar");
    const brushSize = editor.querySelector("[data-brush-size]");
    const status = editor.querySelector("[data-mask-status]");
    const input = form && form.querySelector("[data-mask-input]");
    const width = Number(editor.dataset.width);
    const height = Number(editor.dataset.height);
    if (!input || !stage || !canvas || !toolbar || !brushSize || !(width > 0 && height > 0)) return;

    // The mask must have the image's own size, whatever size the template gave the canvas.
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });  // read after every stroke
    const sample = document.createElement("canvas");
    const scale = Math.min(1, SAMPLE_EDGE / Math.max(width, height));
    sample.width = Math.max(1, Math.round(width * scale));
    sample.height = Math.max(1, Math.round(height * scale));
    const sampleContext = sample.getContext("2d", { willReadFrequently: true });
    const colour = getComputedStyle(editor).getPropertyValue("--mask-tint").trim() || "#ff1a75";
    const paint = word(sampleContext, colour);
    const opaque = word(sampleContext, "#000");
    const whole = [0, 0, width, height];
    const cursor = document.createElement("div");
    cursor.className = "mask-cursor";
    cursor.hidden = true;
    stage.append(cursor);

    let tool = "brush";
    let stroke = null;     // the stroke being drawn
    let hover = null;      // where a mouse or pen hovers, for the brush outline
    let empty = true;
    let base = null;       // the paint before the oldest undoable step, once there are too many
    let previewTimer;
    const done = [];
    const undone = [];

    function diameter() {
      return Math.max(MIN_DIAMETER, (brushSize.value / 100) * 0.25 * Math.max(width, height));
    }

    function apply(target, step) {
      if (step.kind === "stroke") {
        drawStroke(target, step, colour);
        settle(target, step.box, paint);
      } else if (step.kind === "invert") {
        settle(target, whole, paint, true);
      } else {
        target.clearRect(0, 0, width, height);
      }
    }

    function record(step) {
      done.push(step);
      undone.length = 0;
      if (done.length > HISTORY) {
        if (!base) {
          base = document.createElement("canvas");
          base.width = width;
          base.height = height;
        }
        apply(base.getContext("2d", { willReadFrequently: true }), done.shift());
      }
      refresh();
    }

    // Undo replays what is left instead of keeping pictures: twenty 4096x4096 snapshots would
    // take over a gigabyte, twenty strokes a few kilobytes.
    function redraw() {
      context.clearRect(0, 0, width, height);
      if (base) context.drawImage(base, 0, 0);
      for (const step of done) apply(context, step);
    }

    // The painted share, measured on a small copy: reading every pixel of a 4096x4096 canvas
    // after each stroke would stall the page.
    function paintedShare() {
      sampleContext.clearRect(0, 0, sample.width, sample.height);
      sampleContext.imageSmoothingQuality = "high";  // averages, so a small dot still shows
      sampleContext.drawImage(canvas, 0, 0, sample.width, sample.height);
      const bytes = sampleContext.getImageData(0, 0, sample.width, sample.height).data;
      let sum = 0;
      for (let i = 3; i < bytes.length; i += 4) sum += bytes[i];
      return sum / (255 * sample.width * sample.height);
    }

    function refresh() {
      const share = paintedShare();
      empty = share === 0;
      // Never "0%" while something is painted, nor "100%" while something is not.
      const percent = empty ? 0 : Math.min(Math.max(Math.round(share * 100), 1), share < 1 ? 99 : 100);
      const text = empty ? editor.dataset.emptyLabel : editor.dataset.paintedLabel.replace("{percent}", percent);
      if (status && status.textContent !== text) status.textContent = text;
      const disable = { undo: !done.length, redo: !undone.length, clear: empty };
      for (const [action, off] of Object.entries(disable)) {
        const button = toolbar.querySelector(`[data-action="${action}"]`);
        if (button) button.setAttribute("aria-disabled", String(off));
      }
    }

    // Toolbar and keyboard commands. A disabled button keeps its focus (aria-disabled), so
    // pressing Undo until the history is empty does not throw the focus to the page.
    const commands = {
      brush: () => choose("brush"),
      eraser: () => choose("eraser"),
      smaller: () => resize(-1),
      larger: () => resize(1),
      undo() {
        if (!done.length) return;
        undone.push(done.pop());
        redraw();
        refresh();
      },
      redo() {
        if (!undone.length) return;
        const step = undone.pop();
        apply(context, step);
        done.push(step);
        refresh();
      },
      invert() {
        const step = { kind: "invert" };
        apply(context, step);
        record(step);
      },
      clear() {
        if (empty) return;
        const step = { kind: "clear" };
        apply(context, step);
        record(step);
      },
    };

    function run(name) {
      if (stroke && !["brush", "eraser", "smaller", "larger"].includes(name)) return;  // not mid-stroke
      commands[name]();
    }

    function choose(name) {
      tool = name;
      for (const button of toolbar.querySelectorAll("[data-tool]")) {
        button.setAttribute("aria-pressed", String(button.dataset.tool === name));
      }
    }

    // [ and ] step by about a quarter, so both ends of the range are a few presses away.
    function resize(direction) {
      const value = Number(brushSize.value);
      brushSize.value = direction > 0
        ? Math.max(value + 1, Math.round(value * 1.25))
        : Math.min(value - 1, Math.round(value / 1.25));
      preview();
    }

    // The brush outline, at its size on screen. Physical coordinates: it follows the pointer.
    function showCursor(clientX, clientY) {
      const box = canvas.getBoundingClientRect();
      const size = (diameter() * box.width) / width;
      cursor.style.width = cursor.style.height = `${size}px`;
      const [x, y] = [clientX - box.left - size / 2, clientY - box.top - size / 2];
      cursor.style.transform = `translate(${x}px, ${y}px)`;
      cursor.hidden = false;
    }

    // While the size changes, show the outline on the image (at its centre without a pointer).
    function preview() {
      clearTimeout(previewTimer);
      if (hover) return showCursor(hover.x, hover.y);
      const box = canvas.getBoundingClientRect();
      showCursor(box.left + box.width / 2, box.top + box.height / 2);
      previewTimer = setTimeout(() => { if (!hover) cursor.hidden = true; }, 800);
    }

    // Pointer coordinates from CSS pixels to image pixels; the canvas may be shown at any size.
    function point(event) {
      const box = canvas.getBoundingClientRect();
      // A pen's pressure narrows its stroke; a mouse or a finger reports no real pressure.
      const factor = event.pointerType === "pen" && event.pressure > 0 ? 0.2 + 0.8 * event.pressure : 1;
      const x = ((event.clientX - box.left) * width) / box.width;
      const y = ((event.clientY - box.top) * height) / box.height;
      return [x, y, factor];
    }

    canvas.addEventListener("pointerdown", (event) => {
      // The main button paints; a pen's eraser end (button 5) erases whatever the tool.
      if (stroke || !event.isPrimary || (event.button !== 0 && event.button !== 5)) return;
      canvas.setPointerCapture(event.pointerId);
      const erase = tool === "eraser" || event.button === 5;
      stroke = { kind: "stroke", erase, size: diameter(), points: point(event), pointerId: event.pointerId };
      drawStroke(context, stroke, colour);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (event.pointerType === "touch") cursor.hidden = true;  // a finger hides it anyway
      else {
        hover = { x: event.clientX, y: event.clientY };
        showCursor(hover.x, hover.y);
      }
      if (!stroke || event.pointerId !== stroke.pointerId) return;
      const from = stroke.points.length;
      // Coalesced events carry the positions the browser merged into this one: smoother curves.
      const events = (event.getCoalescedEvents && event.getCoalescedEvents()) || [];
      for (const each of events.length ? events : [event]) {
        const [x, y, factor] = point(each);
        const p = stroke.points;
        if (Math.hypot(x - p[p.length - 3], y - p[p.length - 2]) >= 0.5) p.push(x, y, factor);
      }
      drawStroke(context, stroke, colour, from);
    });

    function finish(event) {
      if (!stroke || event.pointerId !== stroke.pointerId) return;
      const step = stroke;
      stroke = null;
      delete step.pointerId;
      step.box = strokeBox(step, width, height);
      settle(context, step.box, paint);
      record(step);
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("lostpointercapture", finish);
    canvas.addEventListener("pointerleave", () => {
      hover = null;
      cursor.hidden = true;
    });
    window.addEventListener("resize", () => { cursor.hidden = true; });  // it would be misplaced

    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || button.getAttribute("aria-disabled") === "true") return;
      const name = button.dataset.tool || button.dataset.action;
      if (commands[name]) run(name);
    });
    brushSize.addEventListener("input", preview);

    // Arrow keys move between the toolbar's buttons, as in any toolbar (the slider keeps its own).
    toolbar.addEventListener("keydown", (event) => {
      if (!event.target.matches("button")) return;
      const controls = [...toolbar.querySelectorAll("button, input")];
      const rtl = getComputedStyle(toolbar).direction === "rtl";
      const moves = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, Home: -Infinity, End: Infinity };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const index = controls.indexOf(event.target) + moves[event.key];
      controls[Math.min(Math.max(index, 0), controls.length - 1)].focus();
    });

    // Shortcuts go to the editor holding the focus, else to the page's first editor; never
    // while the person types (Ctrl+Z in the prompt undoes typing).
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || typing(event.target)) return;
      const owner = (document.activeElement && document.activeElement.closest("[data-mask-editor]"))
        || document.querySelector("[data-mask-editor]");
      if (owner !== editor) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      const command = event.ctrlKey || event.metaKey;
      let name;
      if (key === "[" || key === "]") name = key === "[" ? "smaller" : "larger";  // AltGr on some layouts
      else if (event.altKey) return;
      else if (command && key === "z") name = event.shiftKey ? "redo" : "undo";
      else if (event.ctrlKey && key === "y") name = "redo";
      else if (command) return;
      else if (key === "Delete") name = event.shiftKey ? "clear" : null;
      else name = { b: "brush", e: "eraser", i: "invert" }[key];
      if (!name) return;
      event.preventDefault();
      if (event.repeat && ["invert", "clear"].includes(name)) return;  // a held key must not flicker
      run(name);
    });

    // The mask's pixels, or null when nothing is painted: transparent where painted, opaque elsewhere.
    function maskImage() {
      const image = context.getImageData(0, 0, width, height);
      const bytes = image.data;
      const words = new Uint32Array(bytes.buffer);
      let painted = 0;
      for (let i = 0; i < words.length; i++) {
        if (bytes[i * 4 + 3] >= PAINTED) {
          words[i] = 0;
          painted++;
        } else words[i] = opaque;
      }
      return painted ? image : null;
    }

    // The form builds what it sends after its submit event, so the file put in here goes with
    // it, and with the button that was pressed. Capture phase: before any other handler (htmx's
    // included) reads the form. A mask that cannot be made stops the submission: sending none
    // would silently edit the whole image.
    form.addEventListener("submit", (event) => {
      // A model that cannot take a mask (it uses the image as a reference) is sent none.
      const mask = form.querySelector('[data-takes-mask="false"]') ? null : maskImage();
      if (!mask) {
        input.value = "";
        return;
      }
      const files = new DataTransfer();
      try {
        files.items.add(maskFile(mask));
      } catch (error) {
        event.preventDefault();
        event.stopImmediatePropagation();
        throw error;
      }
      input.files = files.files;
    }, true);

    // The form came back with an error: the mask that was sent is painted again, as the base
    // every later step draws over.
    function restore(source) {
      const picture = new Image();
      picture.onload = () => {
        const copy = document.createElement("canvas");
        copy.width = width;
        copy.height = height;
        const copyContext = copy.getContext("2d", { willReadFrequently: true });
        copyContext.drawImage(picture, 0, 0, width, height);
        const image = copyContext.getImageData(0, 0, width, height);
        const words = new Uint32Array(image.data.buffer);
        for (let i = 0; i < words.length; i++) words[i] = image.data[i * 4 + 3] === 0 ? paint : 0;
        copyContext.putImageData(image, 0, 0);
        base = copy;
        redraw();
        refresh();
      };
      picture.src = source;
    }

    toolbar.hidden = false;
    editor.classList.add("is-ready");
    if (editor.dataset.maskSrc) restore(editor.dataset.maskSrc);
    refresh();
  }

  document.querySelectorAll("[data-mask-editor]").forEach(setUp);
})();
