"""Session 30, in Chromium: Fuse pressed again while its fusion runs says why nothing happens.

Gradio takes one request of a button at a time and drops a press while it runs: the second press
of Fuse during a fusion did nothing, without a word (the button looked as pressable as before, and
the status line, zero pixels high while empty, did not even show the fusion's progress). The button
is now marked busy while its request runs (``aria-disabled``, dimmed) and a press then says in the
status line that the fusion running goes on and its result comes there; both go when it ends, and
the result is the one fusion's."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait

#: the status line's own text, not Gradio's progress tracker inside it
OWN_TEXT = """const own = document.getElementById(arguments[0]).cloneNode(true);
for (const e of own.querySelectorAll("[data-testid=status-tracker]")) e.remove();
return own.textContent.replace(/\\s+/g, " ").trim();"""


def _pair(tmp_path, size=800):
    """Two noise images of ``size`` pixels a side: a network fusion of seconds at one thread."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(30)
    out = []
    for name in ("busy_a.png", "busy_b.png"):
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(tmp_path / name)
        out.append(tmp_path / name)
    return out


def test_fuse_pressed_again_while_it_runs_says_why_nothing_happens(server, browser, tmp_path):
    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn") and page.all("#input-a input[type=file]"), 60, "the page")
    a, b = _pair(tmp_path)
    page.all("#input-a input[type=file]")[0].send_keys(str(a))
    page.all("#input-b input[type=file]")[0].send_keys(str(b))
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the uploads")
    button = page.all("#fuse-btn")[0]
    button.click()
    busy = "#status [data-testid=status-tracker]:not(.hide), #timing [data-testid=status-tracker]:not(.hide)"
    _wait(lambda: page.all(busy), 60, "the fusion running")
    assert d.execute_script(OWN_TEXT, "status") == ""
    d.execute_script("arguments[0].click();", button)  # pressed again
    said = _wait(lambda: d.execute_script(OWN_TEXT, "status"), 10, "a word on the second press")
    assert "running" in said and "when it ends" in said, said
    assert button.get_attribute("aria-disabled") == "true"
    _wait(lambda: not page.all(busy) and page.all("#status")[0].text.startswith("done"), 240, "the result")
    _wait(lambda: button.get_attribute("aria-disabled") == "false", 10, "the button free again")
    said = d.execute_script(OWN_TEXT, "status")
    assert said.startswith("done: busy_a-busy_b-default.png") and "running" not in said, said
    assert page.all("#timing")[0].text.startswith("fused in")
