"""The Gradio page of ``mutualfuse serve`` (needs the ``web`` extra: ``pip install 'mutualfuse[web]'``).

All the work is done by :func:`mutualfuse.web.core.fuse_request` (the library, as the CLI calls
it) and, for a focus stack, :func:`mutualfuse.web.core.fuse_stack_request` (``fuse-stack``
itself); this module only lays out the page and turns errors into a message on it. Element ids
(``#input-a``, ``#fuse-btn``, ``#status``, ``#metrics``, ``#downloads`` …; for a stack
``#stack-input``, ``#stack-btn``, ``#stack-status``, ``#stack-download``, ``#stack-timing``,
``#stack-compare``, ``#stack-compare-with``) are
what the browser test drives.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from ..api import STACK_ORDERS
from ..tasks import TASKS
from . import core

#: the task choice that means "no --task": auto where the weights record per-task settings, else stored
NO_TASK = "auto"
#: the one queue of the pair's and the stack's fusions (one at a time, as ``serve`` sets the
#: limit to 1: per event otherwise, so a stack could run beside a pair)
FUSE_QUEUE = "fuse"

INTRO = """# mutualfuse
Fuse two registered images (infrared + visible, near + far focus, CT + MR): upload a pair or pick
a bundled sample, choose the network or a classical method, and press **Fuse**. The result is the
same file `mutualfuse fuse` writes with the same options; nothing leaves this machine. A focus
stack of more images (microscopy): *focus stack* below."""

STACK_INTRO = """Upload the planes of one focus stack (select them all at once), or one multi-page TIFF, and
press **Fuse stack**: the method and options above apply, and the result is the file
`mutualfuse fuse-stack` writes with the same options (with the network the task is *multi-focus*
unless the task option names another). The images are stacked in name order, numbers by value
(z2 before z10), as `fuse-stack` orders a folder; the command below lists them in that order."""


#: how long the page's results stay, said beside their downloads (the links then fail: the server's
#: page of :func:`mutualfuse.web.server.gone_page`, and a notice on this page: ``PAGE_JS``)
KEPT = f"kept on this server about {core.REQUEST_MAX_AGE // 60} minutes: download what you want to keep"


def _gone_line(button: str) -> str:
    """A section's status line when the image picked for its slider is no longer on the server (the
    wording of the page's notice of a result gone: ``PAGE_JS``), ``button`` the one that makes it anew."""
    return (f"mutualfuse: error: this result is no longer on the server (results are kept about "
            f"{core.REQUEST_MAX_AGE // 60} minutes, or the server was restarted): press {button} again to "
            "make it anew")


#: the stack's status line when the image picked for its slider is no longer on the server
STACK_GONE = _gone_line("Fuse stack")
#: the pair's status line (``#status``) when the source picked for its slider is no longer on the server
PAIR_GONE = _gone_line("Fuse")


#: the buttons of the fused images: Gradio's default adds "share", which uploads the image to
#: huggingface.co (``https://huggingface.co/uploads``, for a Spaces discussion): off this machine, which
#: the page says nothing leaves
IMAGE_BUTTONS = ["download", "fullscreen"]

#: the metrics table's column widths (metric, fused, pixel average, better), fixed whatever the rows
METRICS_COLUMNS = ["34%", "22%", "22%", "22%"]


#: how many pages' (browser tabs') latest pair results the server remembers (``on_more``)
LATEST_KEPT = 10000


#: the page's style for keyboard and low-vision users (``launch(css=)``; checked by
#: tests/web/test_s24_a11y.py): the status lines one line high while empty (the first status moved
#: everything under it down, and a fusion's progress, drawn inside them, was not seen: zero pixels
#: high), the Fuse buttons dimmed while busy, a focus ring on every control that has the keyboard's focus
#: (Gradio's dropdowns, radios and upload areas had none: ``outline: none``), the primary buttons
#: darker (white on Gradio's orange was 2.8:1 light, 3.6:1 dark; WCAG AA asks 4.5:1), the
#: upload areas' "- or -" in the text colour (1.9:1), and the class of text for screen readers only
PAGE_CSS = """
:root { --mf-focus: #1d4ed8; --mf-primary: #c2410c; --mf-primary-hover: #9a3412; }
.dark { --mf-focus: #93c5fd; }
.gradio-container :is(a, button, input, select, textarea, summary, [tabindex]):focus-visible,
.gradio-container [role=slider]:focus {
  outline: 3px solid var(--mf-focus) !important; outline-offset: 2px !important;
}
#fuse-btn, #stack-btn { background: var(--mf-primary) !important; color: #ffffff !important; }
#fuse-btn:hover, #stack-btn:hover { background: var(--mf-primary-hover) !important; }
#fuse-btn[aria-disabled=true], #stack-btn[aria-disabled=true] { opacity: 0.65; cursor: progress !important; }
.mf-busy { margin: 0.25em 0; font-weight: 600; }
#status .md, #stack-status .md { display: block; min-height: 1.625em; }
[data-testid=upload-text] .or { color: inherit !important; }
.mf-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
img[data-mf-gone] { visibility: hidden !important; }
.mf-gone, .mf-too-large { margin: 0.5em; padding: 0.5em 0.75em; border: 2px solid currentColor; border-radius: 4px; font-weight: 600; }
"""

#: the page's script for keyboard and screen-reader users (``launch(js=)``, run once when the page
#: loads; a MutationObserver applies it again as Gradio re-renders): the upload areas (real
#: ``<button>``s) named by their labels ("image a (infrared …): choose a file") instead of Gradio's
#: "Click to upload or drop files" on all three; the status and timing lines live regions
#: (``role=status``, ``aria-live=polite``; an error is the status line) with Gradio's ticking
#: progress timer inside them silenced (``aria-live=off``) and the progress said instead when it
#: changes ("stack: 1/3 fusions fusing the stack - 33.3%", in a visually hidden ``role=status``); the fused
#: images and the sliders' images given alt texts (Gradio writes ``alt=""``, which hides them);
#: and the before/after sliders, which only a mouse could drag, keyboard-operable: the divider is a
#: focusable ``role=slider`` with ``aria-valuenow`` (0–100, % of the image's width from the left)
#: that Arrow keys (5 %), Page Up/Down (25 %), Home and End move, by the drag gesture Gradio's
#: slider listens to (a press at the new place and a release)
PAGE_JS = r"""
() => {
  // mutualfuse serve: accessibility of the page for keyboard and screen-reader users
  const UPLOADS = ["input-a", "input-b", "stack-input"];
  // each Fuse button's section: its status line (first) and the other line its request shows its progress in
  const SECTION = {"fuse-btn": ["status", "timing"], "stack-btn": ["stack-status", "stack-timing"]};
  const LIVE = ["status", "stack-status", "timing", "stack-timing"];
  const RESULTS = ["fused", "compare", "downloads", "stack-fused", "stack-compare", "stack-download"];
  const STEP = 5, PAGE = 25;  // slider steps, percent of the image's width
  const set = (el, name, value) => { if (el && el.getAttribute(name) !== value) el.setAttribute(name, value); };
  const text = el => (el ? el.textContent : "").replace(/\s+/g, " ").trim();
  const label = id => text(document.querySelector("#" + id + " [data-testid=block-label]")) || id;

  // the slider's image as Gradio's ImageSlider places it: (left, width) in its frame
  function geometry(img) {
    const r = img.parentElement.getBoundingClientRect();
    if (!img.naturalWidth || !r.width || !r.height) return null;
    const w = img.naturalWidth / img.naturalHeight > r.width / r.height ? r.width : r.height * img.naturalWidth / img.naturalHeight;
    return {left: (r.width - w) / 2, width: w};
  }
  function position(handle, g) {
    const m = /translateX\(([-\d.]+)px\)/.exec(handle.style.transform || "");
    return m && g ? Math.min(1, Math.max(0, (parseFloat(m[1]) - g.left) / g.width)) : 0.5;
  }
  function compared(id) {  // what the slider's left image is
    if (id === "compare") {
      const on = document.querySelector("#compare-with input:checked");
      return on && on.value.startsWith("b") ? "image b" : "image a";
    }
    const pick = document.querySelector("#stack-compare-with input");
    return "stack image " + (pick && pick.value ? pick.value : "");
  }
  function slider(id, fused) {
    const box = document.getElementById(id);
    const handle = box && box.querySelector("[data-testid=slider]");
    const imgs = box ? box.querySelectorAll("img[data-testid=imageslider-image]") : [];
    if (!handle || imgs.length < 2) return;
    const left = compared(id).trim();
    set(imgs[0], "alt", left);
    set(imgs[1], "alt", fused);
    const g = geometry(imgs[0]);
    const pct = Math.round(100 * position(handle, g));
    set(handle, "role", "slider");
    set(handle, "tabindex", "0");
    set(handle, "aria-label", "divider between " + left + " (left) and " + fused + " (right)");
    set(handle, "aria-orientation", "horizontal");
    set(handle, "aria-valuemin", "0");
    set(handle, "aria-valuemax", "100");
    set(handle, "aria-valuenow", String(pct));
    set(handle, "aria-valuetext", pct + "% from the left");
    if (handle.dataset.mfKeys) return;
    handle.dataset.mfKeys = "1";
    handle.addEventListener("keydown", ev => {
      const img = box.querySelector("img[data-testid=imageslider-image]");  // as shown now
      const geo = img && geometry(img);
      if (!geo) return;
      const now = position(handle, geo) * 100;
      const to = {ArrowLeft: now - STEP, ArrowDown: now - STEP, ArrowRight: now + STEP, ArrowUp: now + STEP,
                  PageDown: now - PAGE, PageUp: now + PAGE, Home: 0, End: 100}[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      // the slider moves by its drag gesture (d3-drag): a press at the new place, then a release
      const frame = img.parentElement.getBoundingClientRect();
      const h = handle.getBoundingClientRect();
      const x = frame.left + geo.left + geo.width * Math.min(100, Math.max(0, to)) / 100;
      const at = {bubbles: true, cancelable: true, view: window, button: 0, clientX: x, clientY: h.top + h.height / 2};
      handle.dispatchEvent(new MouseEvent("mousedown", at));
      window.dispatchEvent(new MouseEvent("mouseup", at));
      handle.focus();
      requestAnimationFrame(fix);
    });
  }
  function fix() {
    for (const id of UPLOADS) {
      const box = document.getElementById(id);
      if (!box) continue;
      const name = label(id);
      for (const b of box.querySelectorAll("button.upload-container"))
        set(b, "aria-label", name + ": choose " + (id === "stack-input" ? "the files" : "a file") + " (Enter), or drop here");
      for (const f of box.querySelectorAll("input[type=file]")) set(f, "aria-label", name);
      const big = box.querySelector(":scope > .mf-too-large"), now = filesIn(box);
      if (big && now && now !== big.dataset.files) big.remove();
    }
    for (const id of LIVE) {
      const box = document.getElementById(id);
      if (!box) continue;
      set(box, "role", "status");
      set(box, "aria-live", "polite");
      const tracker = box.querySelector("[data-testid=status-tracker]");
      if (tracker) {
        set(tracker, "aria-live", "off");  // its timer ticks ten times a second: progress is told below
        set(box, "aria-busy", tracker.classList.contains("hide") ? "false" : "true");
      }
    }
    // progress, said when it changes (not its timer): "stack: 1/3 fusions fusing the stack - 33.3%"
    let live = document.getElementById("mf-progress");
    if (!live) {
      live = document.createElement("div");
      live.id = "mf-progress";
      live.className = "mf-sr-only";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    let said = "";
    for (const id of ["status", "stack-status"]) {
      const t = document.querySelector("#" + id + " [data-testid=status-tracker]");
      if (t && !t.classList.contains("hide")) {
        said = text(t).replace(/\b\d+(\.\d+)?(\/\d+(\.\d+)?)?s\b/g, "").replace(/\|/g, " ").replace(/\s+/g, " ").trim();
        said = (id === "status" ? "fusing the pair" : "stack") + (said ? ": " + said : ": working");
      }
    }
    if (live.textContent !== said) live.textContent = said;
    for (const [id, alt] of [["fused", "fused image"], ["stack-fused", "fused stack"]])
      for (const img of document.querySelectorAll("#" + id + " img")) if (!img.getAttribute("alt")) set(img, "alt", alt);
    slider("compare", "fused image");
    slider("stack-compare", "fused stack");
    // a notice goes when its box shows another result, or the section another request's result: the
    // same result made anew has the same address (Gradio names its files by their SHA-256), which the
    // page does not load again by itself: its images are asked for again (a notice comes back if they fail)
    for (const id of ["timing", "stack-timing"]) {  // a request of the section ended: its tracker hidden again
      const t = document.querySelector("#" + id + " [data-testid=status-tracker]");
      const now = !!t && !t.classList.contains("hide");
      if (busy[id] && !now) runs[id] = (runs[id] || 0) + 1;
      busy[id] = now;
    }
    for (const id of RESULTS) {
      const box = document.getElementById(id), n = box && box.querySelector(":scope > .mf-gone");
      if (!n || (n.dataset.shown === shown(box) && n.dataset.timing === timingOf(box))) continue;
      n.remove();
      for (const img of box.querySelectorAll("img[data-mf-gone]")) {
        delete img.dataset.mfGone;
        img.src = img.getAttribute("src");
      }
    }
  }
  // a result no longer on the server (kept about __MINUTES__ minutes; a server restarted since): its image
  // showed the browser's broken-image icon and its download link failed without a word on the page. A
  // notice in the result's box says so instead (the image hidden; `role=alert`), and goes when the box
  // shows another result.
  // the button that makes the box's result anew: the stack's boxes said "press Fuse again", the pair's button
  const GONE = box => "This result is no longer on the server (results are kept about __MINUTES__ minutes, or the " +
                      "server was restarted): press " + (box.id.startsWith("stack-") ? "Fuse stack" : "Fuse") +
                      " again to make it anew.";
  const UNREACHABLE = "This result could not be fetched: the server cannot be reached (stopped?).";
  const boxOf = el => el && el.closest ? RESULTS.map(id => el.closest("#" + id)).find(b => b) || null : null;
  // the section's requests ended so far and its timing line's own text, not Gradio's progress tracker inside
  // it: its timer ticks ten times a second while the next fusion runs, and each tick took the notice away and
  // asked for the gone image again (a failed GET and a HEAD per tick: 112 requests while a network fusion of
  // 4.55 s and its metrics ran). A request ended counts also when its timing line reads as before (the same
  // result made anew as fast as before)
  const runs = {}, busy = {};
  const timingOf = box => {
    const id = box.id.startsWith("stack-") ? "stack-timing" : "timing", t = document.getElementById(id);
    if (!t) return "";
    const own = t.cloneNode(true);
    for (const e of own.querySelectorAll("[data-testid=status-tracker]")) e.remove();
    return (runs[id] || 0) + " " + text(own);
  };
  const shown = box => Array.from(box.querySelectorAll("img[src], a[href]"),
                                  e => e.getAttribute("src") || e.getAttribute("href")).join(" ");
  function notice(box, message) {
    let n = box.querySelector(":scope > .mf-gone");
    if (!message) { if (n) n.remove(); return; }
    if (!n) {
      n = document.createElement("p");
      n.className = "mf-gone";
      n.setAttribute("role", "alert");
      box.appendChild(n);
    }
    n.textContent = message;
    n.dataset.shown = shown(box);
    n.dataset.timing = timingOf(box);
  }
  document.addEventListener("error", ev => {
    const img = ev.target, box = boxOf(img);
    if (!(img instanceof HTMLImageElement) || !box || !img.getAttribute("src")) return;
    img.dataset.mfGone = "1";
    const src = img.getAttribute("src");
    fetch(img.src, {method: "HEAD", cache: "no-store"}).then(r => r.ok ? null : GONE(box), () => UNREACHABLE).then(m => {
      if (!m) {
        // the file is there now (it was made anew while the image was asked for, e.g. the same result fused
        // again): load it again, once per address, instead of leaving the broken image on the page
        delete img.dataset.mfGone;
        if (img.dataset.mfRetried !== src && img.getAttribute("src") === src) {
          img.dataset.mfRetried = src;
          img.src = src;
        }
      }
      notice(box, m);
    });
  }, true);
  document.addEventListener("load", ev => {
    const img = ev.target, box = boxOf(img);
    if (!(img instanceof HTMLImageElement) || !box) return;
    delete img.dataset.mfGone;
    delete img.dataset.mfRetried;
    if (!box.querySelector("img[data-mf-gone]")) notice(box, null);
  }, true);
  document.addEventListener("click", ev => {  // the download goes on as it would; the check runs beside it
    const a = ev.target.closest ? ev.target.closest("a[href]") : null, box = boxOf(a);
    if (!box || !a.href.includes("/file=")) return;
    fetch(a.href, {method: "HEAD", cache: "no-store"})
      .then(r => notice(box, r.ok ? null : GONE(box)), () => notice(box, UNREACHABLE));
  }, true);

  // an upload larger than the server's limit (Gradio's max_file_size: 12 bytes × `serve --max-pixels` + 16 MiB)
  // is refused by Gradio in the browser with a toast that goes after seconds, leaving the box showing only
  // "Error" (and Fuse then said "upload two images … first"). A notice in the box names the file and the
  // limit until another file is chosen there.
  // sizes as Gradio's toast counts them (units of 1024, one decimal: it writes "27.4 Mb" for 27.4 MiB), so that
  // the notice and the toast say the same limit (the notice said 28.8 MB, decimal, beside the toast's 27.4 Mb)
  const mb = n => {
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let k = 0;
    for (; n >= 1024 && k < units.length - 1; ++k) n /= 1024;
    return n.toFixed(1) + " " + units[k];
  };
  const filesIn = box => Array.from(box.querySelectorAll("td.filename"), text).join("\n");
  function tooLarge(box, files) {
    const limit = Number((window.gradio_config || {}).max_file_size) || 0;
    const over = limit ? Array.from(files || []).filter(f => f.size > limit) : [];
    let n = box.querySelector(":scope > .mf-too-large");
    if (!over.length) { if (n) n.remove(); return; }
    if (!n) {
      n = document.createElement("p");
      n.className = "mf-too-large";
      n.setAttribute("role", "alert");
      box.appendChild(n);
    }
    n.textContent = over.map(f => f.name + " (" + mb(f.size) + ")").join(", ") + (over.length > 1 ? " are" : " is") +
      " larger than this server's upload limit of " + mb(limit) + " per file: not uploaded" +
      (box.id === "stack-input" && files.length > over.length ? " (nor the other files chosen with it)" : "") +
      ". Choose a smaller file.";
    n.dataset.files = filesIn(box);  // the notice goes when the box shows other files (a sample picked)
  }
  const uploadOf = el => el && el.closest ? UPLOADS.map(id => el.closest("#" + id)).find(b => b) || null : null;
  document.addEventListener("change", ev => {
    const box = uploadOf(ev.target);
    if (box && ev.target instanceof HTMLInputElement && ev.target.type === "file") tooLarge(box, ev.target.files);
  }, true);
  document.addEventListener("drop", ev => {
    const box = uploadOf(ev.target);
    if (box && ev.dataTransfer && ev.dataTransfer.files.length) tooLarge(box, ev.dataTransfer.files);
  }, true);

  // Fuse / Fuse stack pressed while the page still fills in what they send (a sample pair picked: its two
  // files; a method picked: its parameters) sent the values of before: a sample picked and Fuse pressed at
  // once fused the pair shown before, under the new sample's name. A press while they run, or within 300 ms
  // of another click or key on the page (Gradio marks an update a frame later), now waits for them to end
  // (at most 30 s) before it is sent; any other press is sent at once.
  const FORM = ["sample", "input-a", "input-b", "method", "weights", "params", "temperature", "detail-gain",
                "detail-activity", "detail-off", "task", "chroma", "normalize", "stack-input"];
  const updating = () => FORM.some(id => Array.from(document.querySelectorAll("#" + id + " [data-testid=status-tracker]"))
                                          .some(t => !t.classList.contains("hide")));
  let letThrough = null, touched = 0;
  const fuseButton = el => (el && el.closest ? el.closest("#fuse-btn, #stack-btn") : null);
  for (const type of ["pointerdown", "mousedown", "click", "keydown"])  // a gesture, not a file chosen
    document.addEventListener(type, ev => { if (!fuseButton(ev.target)) touched = Date.now(); }, true);
  document.addEventListener("click", ev => {
    const button = fuseButton(ev.target);
    if (!button) return;
    const through = button === letThrough;  // a press held below, sent now
    if (through) letThrough = null;
    if (running(button)) {  // Gradio would drop the press without a word: the status line says why
      ev.stopImmediatePropagation();
      ev.preventDefault();
      busyNote(button);
      return;
    }
    if (through) return;
    if (Date.now() - touched > 300 && !updating()) return;
    ev.stopImmediatePropagation();
    ev.preventDefault();
    const t0 = Date.now();
    const send = () => {
      if (Date.now() - t0 < 100 || (updating() && Date.now() - t0 < 30000)) { setTimeout(send, 25); return; }
      letThrough = button;
      button.click();
    };
    setTimeout(send, 25);
  }, true);

  // Fuse / Fuse stack pressed again while its request runs (or waits in the queue) did nothing, without a
  // word: Gradio takes one request of a button at a time and drops a press meanwhile. The button is marked
  // busy while its request runs (aria-disabled, dimmed, a waiting cursor), and a press then says in the
  // section's status line that the fusion running goes on and its result comes there, until it ends.
  // A request that waits in the fusions' queue (one fusion at a time on the server: another tab's, another
  // user's, or this tab's stack) is said as waiting: "A fusion is running" read as this tab's own running.
  // The note follows the request: waiting, then running once it leaves the queue.
  const BUSY = "A fusion is running: this press does nothing; the result of the fusion running comes here when it ends.";
  const WAITING = "This request waits in the queue for another fusion to finish (the server runs one at a time): " +
                  "this press does nothing; its result comes here when it has run.";
  const trackers = button => SECTION[button.id].flatMap(id =>
    Array.from(document.querySelectorAll("#" + id + " [data-testid=status-tracker]"))).filter(t => !t.classList.contains("hide"));
  const running = button => trackers(button).length > 0;
  const busyText = button => trackers(button).some(t => /\bqueue\b/i.test(text(t))) ? WAITING : BUSY;
  function busyNote(button) {
    const box = document.getElementById(SECTION[button.id][0]);
    if (!box || box.querySelector(":scope > .mf-busy")) return;
    const n = document.createElement("p");
    n.className = "mf-busy";
    n.textContent = busyText(button);
    box.appendChild(n);
  }
  function markBusy() {
    for (const id of Object.keys(SECTION)) {
      const button = document.getElementById(id);
      if (!button) continue;
      const on = running(button);
      set(button, "aria-disabled", on ? "true" : "false");
      const n = document.querySelector("#" + SECTION[id][0] + " > .mf-busy");
      if (n && !on) n.remove();
      else if (n && n.textContent !== busyText(button)) n.textContent = busyText(button);
    }
  }

  // Tab from a dropdown whose list of choices is open (the list of "more metrics": long, so scrollable) went to
  // that list, a scroller Chromium lets the keyboard focus, which closes as the box loses the focus: the focus
  // was left on the page's <body>, the next control one more Tab away. The lists are left out of the Tab order
  // (the Arrow keys in the box choose, as before; a click still focuses them), set as Tab is pressed
  const unTab = () => { for (const ul of document.querySelectorAll("ul.option-list")) set(ul, "tabindex", "-1"); };
  document.addEventListener("keydown", ev => { if (ev.key === "Tab") unTab(); }, true);

  let queued = false;
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fix(); markBusy(); }); }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                              characterData: true, attributeFilter: ["class", "src", "style", "value", "aria-checked"]});
  fix();
  markBusy();
}
""".replace("__MINUTES__", str(core.REQUEST_MAX_AGE // 60))  # how long results are kept (core.REQUEST_MAX_AGE)


def page_assets() -> dict[str, str]:
    """The ``css`` and ``js`` of the page, for ``launch()`` (Gradio 6 takes them there, not in ``Blocks``)."""
    return {"css": PAGE_CSS, "js": PAGE_JS}


def _plain(text: str) -> str:
    """``text`` shown as typed in a status line, which is Markdown: ``&``, ``<`` and ``>`` as entities.
    A ``--param`` value holding ``<img src=x onerror=…>`` came back in the error as an image (Gradio
    sanitises the HTML, dropping the handler: a broken-image icon where the value was), not as the
    text the user typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean(msg: str, paths: dict[str, str]) -> str:
    """Show uploaded files by their own names, not by the server's temporary paths (also a path the
    CLI's reader cut short: :func:`core._named`)."""
    return core._named(msg, paths)


def _failed(e: BaseException, paths: dict[str, str], what: str) -> str:
    """The status line of a request that raised ``e``: a FuseError's one line, out of memory, or an
    internal error with its type, uploads named by their own names (``what``: "image", "stack")."""
    from ..errors import FuseError

    if isinstance(e, FuseError):
        return f"mutualfuse: error: {_plain(_clean(str(e), paths))}"
    if isinstance(e, MemoryError):
        return f"mutualfuse: error: out of memory (the {what} is too large for this server)"
    msg = " ".join(str(e).split())[:300]
    return f"mutualfuse: internal error: {type(e).__name__}: {_plain(_clean(msg, paths))}"


def _owner(request, what: str) -> str | None:
    """The request's page (browser tab) and section, whose previous request's files a new request
    of it supersedes (:func:`core._request_dir`); None without a Gradio request (direct calls)."""
    session = getattr(request, "session_hash", None)
    return f"{session}/{what}" if session else None


def build_app(workdir: Path, device: str = "auto", max_pixels: int | None = None,
              own_weights: dict[str, str] | None = None):
    """The page as a ``gradio.Blocks``; uploads and results live under ``workdir``.

    ``own_weights``: weights of one's own, ``{NAME: FILE}`` (``serve --weights NAME=FILE``), offered
    in the weights selector after the shipped ones, labelled as yours; each file is read and checked
    here (:func:`core.check_own_weights`: a one-line FuseError for a file that is not valid weights
    or fails its ``.sha256`` sidecar, a NAME not one word, a shipped name or given twice). A request
    may name only these NAMEs or shipped weights, never a path; NAME fuses as ``mutualfuse fuse
    --weights FILE`` by default (the scaling left at its default: the policy the weights' training
    recorded; their stored settings)."""
    import gradio as gr

    own = core.own_weights_table(own_weights)

    cache = core.FuserCache()
    sample_pairs = core.samples()
    # One fusion at a time, also after a request is cancelled: Gradio's queue then takes the next
    # request while the cancelled one's thread fuses on (a thread cannot be stopped), so a cancel and
    # a new request ran two fusions at once, each checked against the memory left by the other
    # (measured: a small request of another tab ran 1.4 s after the cancel of an 18 s network fusion,
    # which went on using the CPU). The next request now waits for it, as when a tab is closed.
    fusing = threading.Lock()

    def one_at_a_time(progress):
        """Hold the fusion lock (to be released by the caller), saying on the page why it waits."""
        if not fusing.acquire(blocking=False):
            progress((0, None), desc="waiting for a cancelled fusion, still running, to end")
            fusing.acquire()

    #: each page's (browser tab's) latest pair result, by :func:`_owner`: the fused PNG, None after an
    #: error; the last ``LATEST_KEPT`` pages (``on_more`` leaves a result not the latest alone)
    latest: dict[str, str | None] = {}

    def _latest(owner, fused):
        if owner is None:
            return
        with fusing_state:
            latest.pop(owner, None)
            latest[owner] = fused
            while len(latest) > LATEST_KEPT:
                latest.pop(next(iter(latest)))

    fusing_state = threading.Lock()

    method_choices = [(f"{n}  ({fam})" if n != core.NETWORK else "mutualfuse  (the network)", n)
                      for n, fam in core.methods()]

    def on_sample(name):
        if not name:
            return gr.update(), gr.update()
        a, b = sample_pairs[name]
        return str(a), str(b)

    def settings(method, weights, params, chroma, normalize, temperature, gain, activity, detail_off, task):
        """The page's choices as :class:`core.Settings` (the same for a pair and a stack)."""
        net = method == core.NETWORK
        return core.Settings(method=method, weights=weights or "default", params=params or "", chroma=chroma,
                             normalize=normalize or core.DEFAULT_NORMALIZE, device=device, max_pixels=max_pixels,
                             own_weights=dict(own),
                             blend_temperature=temperature if net and temperature else None,
                             detail_gain=gain if net and gain else None,  # blank (Gradio sends 0) = the weights' own
                             detail_activity=(0.0 if detail_off else activity or None) if net else None,
                             task=task if net and task and task != NO_TASK else None)

    def on_method(method):
        net = method == core.NETWORK
        return (gr.update(interactive=net, visible=net),
                gr.update(value=core.default_params(method), visible=not net),
                *[gr.update(visible=net) for _ in range(5)])  # temperature, gain, activity, detail off, task

    def run(a_file, b_file, method, weights, params, chroma, normalize, temperature, gain, activity, detail_off, task,
            which="a vs fused", progress=gr.Progress(track_tqdm=True), request=None):
        empty = (None, None, None, None, "", None)
        if not a_file or not b_file:
            return ("mutualfuse: error: upload two images (or pick a sample pair) first", *empty)
        names = [Path(a_file).name, Path(b_file).name]
        # two uploads of one name (two cameras' image.png) are told apart as "image.png (a)" / "(b)"
        # (the same file twice is one path: its name)
        paths = dict(zip([str(a_file), str(b_file)], core.distinct_names(names, ["a", "b"])))
        if str(a_file) == str(b_file):
            paths = {str(a_file): names[0]}
        gone = core.expired_uploads(paths)
        if gone:
            return (f"mutualfuse: error: {_plain(gone)}", *empty)
        s = settings(method, weights, params, chroma, normalize, temperature, gain, activity, detail_off, task)
        owner = _owner(request, "pair")
        one_at_a_time(progress)
        try:
            r = core.fuse_request(str(a_file), str(b_file), s, workdir, cache, names=tuple(names), owner=owner)
        except Exception as e:  # noqa: BLE001 - the server keeps serving; the message says what broke
            _latest(owner, None)
            return (_failed(e, paths, "image"), *empty)
        finally:
            fusing.release()
        _latest(owner, str(r.png))
        files = [str(r.png)] + ([str(r.tiff)] if r.tiff else [])
        # what each download holds: the PNG cannot hold float or 16-bit colour, the TIFF beside it can
        kind = f"{r.bit_depth}-bit {'colour' if r.colour else 'gray'}"
        if r.tiff and r.tiff_bit_depth not in (None, r.bit_depth):
            kind += f" PNG, {'float' if r.tiff_bit_depth == 32 else f'{r.tiff_bit_depth}-bit'} TIFF"
        timing = (f"fused in **{r.seconds:.2f} s** ({kind}, "
                  f"{r.device}); metrics {r.metric_seconds:.2f} s")
        # the files by their own names, writing the download's name (it said `fuse A B -o fused.png`, to be
        # edited before it ran); two uploads of one name from two folders keep A and B (no name tells them apart)
        one_name = names[0] == names[1] and str(a_file) != str(b_file)
        cmd = s.command(None if one_name else (names[0], names[1]), out=Path(r.png).name)
        status = "done: " + _plain(Path(r.png).name) + "".join(f"  \nnote: {_plain(n)}" for n in r.notes)
        state = {"a": str(r.preview_a), "b": str(r.preview_b), "fused": str(r.png), "average": str(r.average),
                 "sources": [str(a_file), str(b_file)], "names": paths, "normalize": r.normalize, "rows": r.metrics,
                 "which": str(which)}
        # the slider shows the source the radio names (it showed a after a re-fuse with "b vs fused" set)
        return (status, str(r.png), core.compare_pair(state, which), r.metrics, files,
                f"{timing}  \nsame as: `{cmd}`", state)

    def run_stack(files, method, weights, params, chroma, normalize, temperature, gain, activity, detail_off, task,
                  order="tree", fmt="png", progress=gr.Progress(), request=None):
        """Fuse the uploaded focus stack as ``mutualfuse fuse-stack`` does → status, image, download, timing;
        the page shows the count of the N − 1 pairwise fusions while it runs (a network stack of 30
        planes takes minutes)."""
        files = [str(f) for f in (files or [])]
        empty = (None, None, "", None, gr.update(choices=[], value=None), None)
        if not files:
            return ("mutualfuse: error: upload the stack first (two or more images, or one multi-page TIFF)", *empty)
        paths = {f: Path(f).name for f in files}
        ordered = [p for p, _ in core.stack_order(files, [Path(f).name for f in files])]  # named as the stack names them
        gone = core.expired_uploads(dict(zip(ordered, core.distinct_names(
            [Path(f).name for f in ordered], [f"image {k + 1}" for k in range(len(ordered))]))))
        if gone:
            return (f"mutualfuse: error: {_plain(gone)}", *empty)
        s = settings(method, weights, params, chroma, normalize, temperature, gain, activity, detail_off, task)
        one_at_a_time(progress)
        try:
            r = core.fuse_stack_request(files, s, workdir, cache, names=[Path(f).name for f in files],
                                        order=order or "tree", fmt=fmt or "png", owner=_owner(request, "stack"),
                                        progress=lambda done, total: progress((done, total), desc="fusing the stack",
                                                                              unit="fusions"))
        except Exception as e:  # noqa: BLE001 - the server keeps serving; the message says what broke
            return (_failed(e, paths, "stack"), *empty)
        finally:
            fusing.release()
        status = "done: " + _plain(r.summary) + "".join(f"  \nnote: {_plain(n)}" for n in r.notes)
        timing = (f"stack fused in **{r.seconds:.2f} s** (reading, fusing and writing, "
                  f"{cache.get(core._namespace(s)).device})  \nsame as: `{r.command}`")
        state = {"planes": [(label, str(p)) for label, p in r.planes], "fused": str(r.preview)}
        labels = [label for label, _ in r.planes]
        return (status, str(r.preview), str(r.out), timing, core.compare_stack(state, labels[0]),
                gr.update(choices=labels, value=labels[0]), state)

    def on_more(keys, state, progress=gr.Progress(), request=None):
        """The metrics table: the fast metrics of the last result and, scored now, the metrics chosen
        under it (``#more-metrics``: as ``evaluate --metrics KEY`` scores the files) → (table, note).

        A metric chosen while a Fuse of the page runs (or waits in the queue) is sent with the result
        shown then, and runs after that Fuse: it scored the result before, showing its rows under the
        new result until Fuse's own next step (``after_fuse``, which scores the chosen metrics for the
        new result) replaced them, the chosen metrics scored twice. A result that is no longer the
        page's latest (:data:`latest`) is now left alone: nothing changes."""
        keys = [str(k) for k in (keys or [])]
        owner = _owner(request, "pair")
        if owner is not None and owner in latest and (state or {}).get("fused") != latest[owner]:
            return gr.update(), gr.update()
        if not state or not state.get("rows"):
            return gr.update(), ""
        if not keys:
            return state["rows"], ""
        files = [*state["sources"], state["fused"], state["average"]]
        if not all(Path(f).is_file() for f in files):
            return state["rows"], ("mutualfuse: error: this result or its images are no longer on the server (kept "
                                   f"about {core.REQUEST_MAX_AGE // 60} minutes): press Fuse again to score them")
        one_at_a_time(progress)  # in the fusions' queue: a slow metric takes seconds a pair
        t0 = time.perf_counter()
        notes: list[str] = []
        try:
            rows = core.more_scores(keys, *files, normalize=state["normalize"], notes=notes)
        except Exception as e:  # noqa: BLE001 - the server keeps serving; the message says what broke
            return state["rows"], _failed(e, state.get("names") or {}, "image")
        finally:
            fusing.release()
        return (state["rows"] + rows,
                f"{len(rows)} more {'metric' if len(rows) == 1 else 'metrics'} scored in "
                f"{time.perf_counter() - t0:.2f} s" + "".join(f"  \nnote: {_plain(n)}" for n in notes))

    def after_fuse(keys, state, progress=gr.Progress(), request=None):
        """Fuse's next step: the chosen metrics scored for the new result; nothing at all (no update,
        no progress shown) when none is chosen."""
        if not keys:
            return gr.update(), gr.update()
        return on_more(keys, state, progress, request)

    def after_fuse_compare(which, state):
        """Fuse's next step for the slider: the source the radio names now. Fuse sends the radio's
        value when pressed, so a source picked while the fusion ran (the radio's own change then
        showed it for the result before) was undone by the result: the slider showed image a beside
        the radio and the alt text saying "b vs fused" / "image b". Nothing when the radio still
        says what the result shows (or there is no result: an error)."""
        if not state or str(which).startswith("b") == str(state.get("which", "")).startswith("b"):
            return gr.update()
        return core.compare_pair(state, which)

    def on_stack_compare(label, state):
        """The stack's slider for the image picked → (slider, status line). A result no longer on the
        server (its folder removed after the hour; the server restarted) left the slider showing the
        image picked before (its alt text naming the one picked) without a word: the slider is now
        emptied and the status line says why; nothing when no image is picked (no stack fused yet, an
        error's empty selector)."""
        if not label:
            return gr.update(), gr.update()
        pair = core.still_there(core.compare_stack(state, label))
        if pair is None:
            return None, STACK_GONE
        return pair, gr.update()

    def on_compare(which, state, said="", request=None):
        """The pair's slider for the source picked → (slider, status line). As for the stack
        (``on_stack_compare``): a result no longer on the server (its folder removed after the hour)
        left the slider showing the source picked before (its alt text naming the one picked)
        without a word; the slider is now emptied and the status line (``said``: as it is now) says
        why. Without a result (none fused yet: the radio always has a value; an error) nothing
        changes; a status line of a result (``done: …``) with no state left is a server restarted.

        A source picked while Fuse runs is sent with the result shown then; one that runs after the
        next result is made (the radio's requests wait for one another: a few picks in a row) found
        that result's files superseded and said "no longer on the server" on the status line, over
        the new result's ``done: …``. A result that is no longer the page's latest is left alone:
        Fuse's next step (``after_fuse_compare``) shows the source the radio names."""
        owner = _owner(request, "pair")
        if owner is not None and owner in latest and (state or {}).get("fused") != latest[owner]:
            return gr.update(), gr.update()
        if not state and not str(said or "").startswith("done"):
            return gr.update(), gr.update()
        pair = core.still_there(core.compare_pair(state, which))
        if pair is None:
            return None, PAIR_GONE
        return pair, gr.update()

    # Gradio passes the request (its session: the browser tab) to a parameter annotated gr.Request;
    # set as an object, since this module's string annotations cannot be resolved to gradio's class
    for handler in (run, run_stack, on_more, after_fuse, on_compare):
        handler.__annotations__["request"] = gr.Request

    with gr.Blocks(title="mutualfuse", analytics_enabled=False, delete_cache=(600, core.REQUEST_MAX_AGE)) as app:
        gr.Markdown(INTRO)
        with gr.Row():
            sample = gr.Dropdown([""] + list(sample_pairs), value="", label="sample pair", elem_id="sample")
        with gr.Row():
            a_in = gr.File(label="image a (infrared, near focus, CT …)", type="filepath", elem_id="input-a")
            b_in = gr.File(label="image b (visible, far focus, MR …)", type="filepath", elem_id="input-b")
        with gr.Row():
            method = gr.Dropdown(method_choices, value=core.NETWORK, label="method", elem_id="method")
            weights = gr.Dropdown(core.own_weights_choices(own), value="default", elem_id="weights",
                                  label="network weights" + (" (yours: started with `serve --weights`)" if own else ""))
            params = gr.Textbox("", label="method parameters (KEY=VALUE per line)", lines=3, visible=False,
                                elem_id="params")
        with gr.Accordion("options", open=False, elem_id="options"):
            from ..color import CHROMA_RULES
            from ..image_io import NORMALIZE_MODES

            chroma = gr.Dropdown(list(CHROMA_RULES), value="saturation", label="chroma rule (colour inputs; gray = gray output)",
                                 elem_id="chroma")
            # with weights of one's own, a default that is no --normalize: their training's policy (as
            # `fuse --weights FILE`), auto for the rest; "auto" then says --normalize auto for them too
            norm_choices = ([("default: your weights' training policy, else auto", core.DEFAULT_NORMALIZE)] if own
                            else []) + [(m, m) for m in NORMALIZE_MODES]
            normalize = gr.Dropdown(norm_choices, value=core.DEFAULT_NORMALIZE if own else "auto",
                                    label="16-bit / float scaling", elem_id="normalize")
            task = gr.Dropdown([NO_TASK, "stored", *TASKS], value=NO_TASK, elem_id="task",
                               label="task: the settings the weights record for it, chosen on that task's "
                                     "validation pairs (shipped 'default': ir-vis = temperature 0.1 + detail activity "
                                     "10000, multi-focus = temperature 0.1 + detail activity 3000, medical = detail activity 300); "
                                     "auto = the task detected from the pair (shown in the status), for weights "
                                     "without per-task settings their stored ones; stored = the weights' own; "
                                     "options below win")
            temperature = gr.Number(None, label="selection temperature (0 < T ≤ 1e6; smaller = harder; blank or 0 = "
                                    "the task's, else the weights' own)", elem_id="temperature")
            gain = gr.Number(None, label="detail gain (0.5–2; > 1 sharpens; pyramid weights such as 'default'; "
                             "blank or 0 = the task's, else the weights' own, 1)", elem_id="detail-gain")
            activity = gr.Number(None, label="detail activity (0–10000; a given choose-max rule added to the "
                                 "learned detail-band weights; pyramid weights; blank or 0 = the task's, else the weights' own, "
                                 "off; 'detail rule off' below switches a task's rule off)",
                                 elem_id="detail-activity")
            detail_off = gr.Checkbox(False, label="detail rule off (detail activity 0, as --detail-activity 0: "
                                     "also a task's rule)", elem_id="detail-off")
        go = gr.Button("Fuse", variant="primary", elem_id="fuse-btn")
        status = gr.Markdown("", elem_id="status")
        state = gr.State(None)
        with gr.Row():
            # no "share" button (Gradio shows it by default): it posts the image to huggingface.co, off this machine
            fused = gr.Image(label="fused", type="filepath", format="png", interactive=False, elem_id="fused",
                             buttons=IMAGE_BUTTONS)
            with gr.Column():
                compare = gr.ImageSlider(label="before / after (drag)", type="filepath", interactive=False,
                                         elem_id="compare")
                # labelled (it was a group named "Radio" for a screen reader)
                which = gr.Radio(["a vs fused", "b vs fused"], value="a vs fused",
                                 label="the slider compares the fused image with", elem_id="compare-with")
        # fixed column widths: Gradio sized the columns by their contents, so an error (the table emptied)
        # or the next result moved them (the "fused" column 27 px narrower under an error than under a result)
        metrics = gr.Dataframe(headers=["metric", "fused", "pixel average", "better"], label="metrics",
                               interactive=False, elem_id="metrics", column_widths=METRICS_COLUMNS)
        more = gr.Dropdown(core.metric_choices(), value=[], multiselect=True, elem_id="more-metrics",
                           label="more metrics for the table (as `mutualfuse evaluate --metrics KEY`; scored after "
                                 "each Fuse and when chosen, in the queue of the fusions: a slow one takes seconds "
                                 "at the samples' size, minutes at a camera's)")
        more_note = gr.Markdown("", elem_id="more-metrics-note")
        downloads = gr.File(label="download (PNG; a TIFF as well when an input is 16-bit or float: 16-bit, "
                                  "float kept, as `fuse -o fused.tif`); " + KEPT, file_count="multiple",
                            interactive=False, elem_id="downloads")
        timing = gr.Markdown("", elem_id="timing")
        with gr.Accordion("focus stack (N ≥ 2 images, or one multi-page TIFF)", open=True, elem_id="stack"):
            gr.Markdown(STACK_INTRO, elem_id="stack-intro")
            stack_in = gr.File(label="the stack: two or more images, or one multi-page / ImageJ / OME TIFF z-stack",
                               file_count="multiple", type="filepath", elem_id="stack-input")
            with gr.Row():
                order = gr.Radio(list(STACK_ORDERS), value="tree", elem_id="stack-order",
                                 label="order (--order): tree = balanced (halves; neighbours first); spread = the "
                                       "same tree, images far apart in depth first (better with the network); "
                                       "sequential = ((1, 2), 3), …")
                fmt = gr.Radio(list(core.STACK_FORMATS), value="png", elem_id="stack-format",
                               label="download as (png: 8/16-bit gray, 8-bit colour; tif: 16-bit colour, float)")
            stack_go = gr.Button("Fuse stack", variant="primary", elem_id="stack-btn")
            stack_status = gr.Markdown("", elem_id="stack-status")
            stack_fused = gr.Image(label="fused stack", type="filepath", format="png", interactive=False,
                                   buttons=IMAGE_BUTTONS,
                                   elem_id="stack-fused")
            with gr.Row():
                stack_compare = gr.ImageSlider(label="an image of the stack / fused (drag)", type="filepath",
                                               interactive=False, elem_id="stack-compare")
                stack_which = gr.Dropdown([], value=None, label="compare the fused stack with (each image as fused: "
                                          "8-bit, after the stack's joint mapping)", elem_id="stack-compare-with")
            stack_state = gr.State(None)
            stack_download = gr.File(label="download; " + KEPT, interactive=False, elem_id="stack-download")
            stack_timing = gr.Markdown("", elem_id="stack-timing")

        sample.change(on_sample, sample, [a_in, b_in])
        # a file of one's own uploaded (or one cleared) in place of a sample's: the selector no longer names
        # the sample (it kept its name beside the user's files, and picking that sample again changed
        # nothing: no change of the selector's value); the sample's own files set no upload event
        for box in (a_in, b_in):
            for event in (box.upload, box.clear):
                event(lambda: "", None, sample, queue=False, show_progress="hidden")
        method.change(on_method, method, [weights, params, temperature, gain, activity, detail_off, task])
        fuse_event = go.click(run, [a_in, b_in, method, weights, params, chroma, normalize, temperature, gain, activity,
                                    detail_off, task, which],
                              [status, fused, compare, metrics, downloads, timing, state], concurrency_id=FUSE_QUEUE)
        fuse_event.then(after_fuse, [more, state], [metrics, more_note], concurrency_id=FUSE_QUEUE, show_progress="hidden")
        fuse_event.then(after_fuse_compare, [which, state], compare, show_progress="hidden")
        more.change(on_more, [more, state], [metrics, more_note], concurrency_id=FUSE_QUEUE)
        # no progress shown: the status line is an output (a result gone), and a fusion running may own its tracker
        which.change(on_compare, [which, state, status], [compare, status], show_progress="hidden")
        stack_go.click(run_stack, [stack_in, method, weights, params, chroma, normalize, temperature, gain, activity,
                                   detail_off, task, order, fmt],
                       [stack_status, stack_fused, stack_download, stack_timing, stack_compare, stack_which,
                        stack_state], concurrency_id=FUSE_QUEUE)
        # no progress shown: the status line is an output (a result gone), and a fusion running may own its tracker
        stack_which.change(on_stack_compare, [stack_which, stack_state], [stack_compare, stack_status],
                           show_progress="hidden")
    return app
