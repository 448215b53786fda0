"""Session 26 audit, in Chromium: the page's status line is Markdown that shows what the user typed
(a bad ``--param`` value comes back in the CLI's error). A parameter value holding HTML with a
script handler must never run: Gradio's Markdown sanitising is on (``sanitize_html``; it drops the handler and leaves
an ``<img src="x">``, a broken image where the value was: measured in Chromium, left as Gradio renders it),
and uploaded file names lose ``<`` ``>`` and backticks when Gradio stores them. Checked here on the
served page, so that a Gradio upgrade or a component change that turns it off fails."""
from __future__ import annotations

import time

TIMEOUT = 240


def _wait(cond, timeout=TIMEOUT, what="condition"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = cond()
        except Exception:  # noqa: BLE001 - an element re-rendered while read: try again
            v = None
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_parameter_value_with_a_script_is_shown_as_text_not_run(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(server["url"])
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "#fuse-btn"), 60, "the page")
    every = lambda css: d.find_elements(By.CSS_SELECTOR, css)  # noqa: E731

    def choose(elem, value):
        box = d.find_element(By.CSS_SELECTOR, f"#{elem} input")
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)
        opt = _wait(lambda: [li for li in every("li[role=option]")
                             if (li.get_attribute("aria-label") or "").split()[0:1] == [value]], 30, value)
        opt[0].click()
        _wait(lambda: d.find_element(By.CSS_SELECTOR, f"#{elem} input").get_attribute("value").split()[0:1] == [value],
              30, f"{elem}={value}")

    choose("sample", "tno-01")
    _wait(lambda: all(every(f"#input-{w} td.filename") for w in "ab"), 60, "the sample pair")
    choose("method", "dwt")
    box = _wait(lambda: [e for e in every("#params textarea") if "levels=" in (e.get_attribute("value") or "")],
                30, "dwt's parameters")[0]
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys("levels=<img src=x onerror=\"document.title='XSS'\">")
    box.send_keys(Keys.TAB)
    time.sleep(1)
    every("#fuse-btn")[0].click()
    status = _wait(lambda: (t := every("#status")[0].text.strip()).startswith("mutualfuse:") and t, TIMEOUT,
                   "the error")
    time.sleep(1)  # an image's error handler runs once it fails to load
    assert "levels" in status, status
    assert d.title != "XSS"
    handlers = d.execute_script("return Array.from(document.querySelectorAll('#status *'))"
                                ".filter(e => e.hasAttribute('onerror')).length")
    assert handlers == 0
