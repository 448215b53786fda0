"""s24: the page's accessibility fixes in a real headless Chromium (test_s24_a11y.py has the audit's
findings and the checks that need no browser): the before/after slider moved with the keyboard
(it was mouse-only), alt texts on the fused image and the slider's images (``alt=""`` before), the
upload areas named by their labels, the status line a live region, and the primary button's text
readable (contrast computed from the rendered colours); the focus stack's slider too."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_keyboard_and_screen_reader(server, browser):
    from selenium.webdriver.common.keys import Keys
    from test_serve_browser import TIMEOUT, Page, _wait

    from mutualfuse.web.core import SAMPLES

    page = Page(browser, server["url"])
    names = browser.execute_script(
        "return ['input-a', 'input-b', 'stack-input'].map(id => document.querySelector("
        "'#' + id + ' button.upload-container').getAttribute('aria-label'))")
    assert names[0].startswith("image a (infrared") and names[1].startswith("image b (visible")
    assert names[2].startswith("the stack:")
    assert browser.execute_script("const s = document.querySelector('#status'); "
                                  "return [s.getAttribute('role'), s.getAttribute('aria-live')]") == ["status", "polite"]
    ratio = browser.execute_script("""
        const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const lum = c => { const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
                           const [r, g, b] = rgb(c).map(f); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const s = getComputedStyle(document.querySelector('#fuse-btn'));
        const [a, b] = [lum(s.color), lum(s.backgroundColor)];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);""")
    assert ratio >= 4.5

    page.choose("method", "average")
    pair = SAMPLES / "lytro-01"
    page.upload("a", pair / "a.png")
    page.upload("b", pair / "b.png")
    page.one("#fuse-btn").click()
    _wait(lambda: page.text("#status").startswith(("done", "mutualfuse:")), TIMEOUT, "the fusion")
    assert page.text("#status").startswith("done"), page.text("#status")

    def alts():
        return browser.execute_script("return ['#fused img', '#compare img'].flatMap(s => "
                                      "[...document.querySelectorAll(s)].map(i => i.getAttribute('alt')))")

    _wait(lambda: alts() == ["fused image", "image a", "fused image"], 30, f"alt texts (now {alts()})")
    handle = _wait(lambda: page.all("#compare [role=slider]"), 30, "the slider's divider")[0]
    state = ("const h = document.querySelector('#compare [role=slider]'); "
             "return [h.getAttribute('aria-valuenow'), h.style.transform, document.activeElement === h]")
    now, start, _ = browser.execute_script(state)
    assert now == "50" and handle.get_attribute("tabindex") == "0"
    assert "image a" in handle.get_attribute("aria-label")
    for key, value in [(Keys.ARROW_LEFT, "45"), (Keys.HOME, "0"), (Keys.ARROW_RIGHT, "5"), (Keys.END, "100")]:
        handle.send_keys(key)
        _wait(lambda: browser.execute_script(state)[0] == value, 30, f"the slider at {value} (now {browser.execute_script(state)})")
    now, end, focused = browser.execute_script(state)
    assert end != start and focused  # the divider itself moved, and keeps the keyboard's focus

    # the stack's slider: its left image named by the chosen image of the stack
    page.one("#stack-input input[type=file]").send_keys("\n".join(str(pair / n) for n in ("a.png", "b.png")))
    _wait(lambda: len(page.all("#stack-input td.filename")) == 2, 60, "the stack uploaded")
    page.one("#stack-btn").click()
    _wait(lambda: page.text("#stack-status").startswith(("done", "mutualfuse:")), TIMEOUT, "the stack")
    assert page.text("#stack-status").startswith("done"), page.text("#stack-status")
    stack = ("const h = document.querySelector('#stack-compare [role=slider]'); return h && "
             "[h.getAttribute('aria-valuenow'), h.getAttribute('aria-label'), "
             "[...document.querySelectorAll('#stack-compare img')].map(i => i.getAttribute('alt'))]")
    _wait(lambda: browser.execute_script(stack), 30, "the stack slider's divider")
    now, name, stack_alts = browser.execute_script(stack)
    assert now == "50" and stack_alts == ["stack image a.png", "fused stack"] and "stack image a.png" in name
    page.one("#stack-compare [role=slider]").send_keys(Keys.PAGE_DOWN)
    _wait(lambda: browser.execute_script(stack)[0] == "25", 30, "the stack slider at 25")
    browser.get(server["url"])  # a fresh page for the next test
