"""Session 31: the fused images have no "Share" button, which sent the image off this machine.

Gradio's ``gr.Image`` shows a "Share" button by default (for Hugging Face Spaces discussions): a
click POSTs the image to ``https://huggingface.co/uploads``. The page says that nothing leaves this
machine (docs/web.md, "Offline and private"), yet its fused image and fused stack carried that
button. They now show Download and Fullscreen only (``mutualfuse.web.app.IMAGE_BUTTONS``).
Checked in the page's configuration and in Chromium after a fusion."""
from __future__ import annotations

import pytest
from test_s27_web_gone_browser import _Page, _wait


def test_no_component_of_the_page_has_a_share_button(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path, device="cpu")
    comps = {c.get("props", {}).get("elem_id"): c.get("props", {}) for c in app.config["components"]}
    for elem in ("fused", "stack-fused"):
        assert "download" in comps[elem]["buttons"], comps[elem]["buttons"]
    shared = {e: p["buttons"] for e, p in comps.items() if "share" in (p.get("buttons") or [])}
    assert not shared, shared


def test_the_fused_image_shows_no_share_button(server, browser):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    page.choose("sample", "tno-01")
    page.choose("method", "average")
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the sample's files")
    assert page.status_after_fuse().startswith("done"), "the result"
    _wait(lambda: page.all("#fused img[src]"), 60, "the fused image")
    names = [(b.get_attribute("aria-label") or b.get_attribute("title") or b.text).strip()
             for b in page.all("#fused button, #stack-fused button")]
    assert "Download" in names, names
    assert not [n for n in names if "share" in n.lower()], names
