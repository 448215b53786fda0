"""s24 accessibility audit of the page of ``mutualfuse serve`` (keyboard-only and screen-reader use).

Found in headless Chromium (Gradio 6.31): the before/after sliders could only be dragged with a
mouse (no focusable control, no ``role=slider`` nor ``aria-valuenow``); the fused image and the
sliders' images had ``alt=""`` (hidden from screen readers); the three upload areas were all named
"Click to upload or drop files"; the status, timing and progress lines were not live regions, so
results, errors and progress were not announced; the radio under the slider was a group named
"Radio"; dropdowns, radios and upload areas showed no focus ring; white on the orange primary
buttons was 2.8:1 (light) and 3.6:1 (dark), the upload areas' "- or -" 1.9:1 (WCAG AA: 4.5:1).
The language (``lang="en"``) and the other labels were already right.

Fixed by the page's own CSS and script (``app.PAGE_CSS`` / ``app.PAGE_JS``, given to ``launch()``
by ``serve``) and a label. Checked here without a browser: the served page and its configuration
(the script and style are served, every input component and button has a name, the script's
element ids are the page's) and the colours' contrast ratios; the browser test
(test_s24_a11y_browser.py) drives the slider with the keyboard and reads the names and alt texts.
"""
from __future__ import annotations

import json
import re
import urllib.request
from html.parser import HTMLParser

import pytest
from serve_process import serving

pytest.importorskip("gradio")

#: the component types that take input or show a result a user must be able to name
NAMED = {"file", "dropdown", "textbox", "number", "checkbox", "radio", "image", "imageslider", "dataframe"}


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    h = hex_colour.lstrip("#")
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _var(css: str, selector: str, name: str) -> str:
    """The value of custom property ``name`` in the rule of ``selector`` of ``css``."""
    rule = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert rule, f"no rule {selector} in the page's CSS"
    value = re.search(re.escape(name) + r"\s*:\s*(#[0-9a-fA-F]{6})", rule.group(1))
    assert value, f"no {name} in {selector}"
    return value.group(1)


def _theme_colour(theme, name: str) -> str:
    """A Gradio theme variable resolved through its ``*other`` references to ``#rrggbb``."""
    v = getattr(theme, name)
    while v.startswith("*"):
        v = getattr(theme, v[1:])
    return {"white": "#ffffff", "black": "#000000"}.get(v, v)


def test_colours_are_readable_in_light_and_dark_mode():
    import gradio as gr

    from mutualfuse.web.app import PAGE_CSS

    theme = gr.themes.Default()  # the page's theme (build_app sets none)
    light_bg = _theme_colour(theme, "background_fill_primary")
    dark_bg = _theme_colour(theme, "background_fill_primary_dark")
    # Gradio's own primary buttons fail AA with white text: the page's replace them
    assert contrast("#ffffff", _theme_colour(theme, "button_primary_background_fill")) < 4.5
    for name in ("--mf-primary", "--mf-primary-hover"):
        assert contrast("#ffffff", _var(PAGE_CSS, ":root", name)) >= 4.5, name
    assert re.search(r"#fuse-btn, #stack-btn \{[^}]*var\(--mf-primary\)[^}]*color: #ffffff", PAGE_CSS)
    # the focus ring: 3:1 against the background it is drawn on (WCAG 1.4.11), in both modes
    assert contrast(_var(PAGE_CSS, ":root", "--mf-focus"), light_bg) >= 3
    assert contrast(_var(PAGE_CSS, ".dark", "--mf-focus"), dark_bg) >= 3
    assert re.search(r":focus-visible[^{]*\{[^}]*outline: 3px solid var\(--mf-focus\)", PAGE_CSS)


class _Root(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``mutualfuse serve`` in a subprocess → (its address, the page's HTML, its configuration)."""
    base = tmp_path_factory.mktemp("s24serve")
    with serving(base) as (url, _):
        with urllib.request.urlopen(url, timeout=60) as r:
            html = r.read().decode()
        with urllib.request.urlopen(url + "config", timeout=60) as r:
            config = json.loads(r.read())
        yield url, html, config


def test_the_page_says_its_language(served):
    root = _Root()
    root.feed(served[1])
    assert root.lang == "en"


def test_the_page_serves_its_script_and_style(served):
    from mutualfuse.web.app import PAGE_CSS, PAGE_JS

    config = served[2]
    assert PAGE_CSS.strip() in (config.get("css") or "")
    assert (config.get("js") or "").strip() == PAGE_JS.strip()


def test_every_control_and_result_has_a_name(served):
    comps = [c for c in served[2]["components"] if c.get("props", {}).get("elem_id")]
    ids = {c["props"]["elem_id"]: c for c in comps}
    for c in comps:
        p = c["props"]
        if c["type"] in NAMED:
            assert (p.get("label") or "").strip(), f"#{p['elem_id']} ({c['type']}) has no label"
        if c["type"] == "button":
            assert (p.get("value") or "").strip(), f"button #{p['elem_id']} has no text"
    assert ids["compare-with"]["props"]["label"]  # was a group named "Radio"
    assert {"fuse-btn", "stack-btn", "input-a", "input-b", "stack-input", "compare", "stack-compare"} <= set(ids)


def test_the_script_fixes_elements_the_page_has(served):
    """Each element id the script names is an element of the page (a renamed id would leave its
    fix silently undone), and the script is a function, as Gradio runs it."""
    from mutualfuse.web.app import PAGE_JS

    assert PAGE_JS.strip().startswith("() => {")
    page_ids = {c["props"]["elem_id"] for c in served[2]["components"] if c.get("props", {}).get("elem_id")}
    named = set(re.findall(r'"(input-a|input-b|stack-input|status|stack-status|timing|stack-timing|fused|'
                           r'stack-fused|compare|stack-compare)"', PAGE_JS))
    named |= set(re.findall(r'#([a-z][a-z-]*[a-z])\b', PAGE_JS)) - {"mf-progress"}
    assert named and named <= page_ids, sorted(named - page_ids)
    for piece in ('"role", "slider"', '"aria-valuenow"', '"aria-live", "polite"', '"role", "status"',
                  "ArrowLeft", "ArrowRight", "Home", "End", '"alt"'):
        assert piece in PAGE_JS, piece
