"""Session 27, in Chromium: a metric chosen under the metrics table (``#more-metrics``) is scored
and shown as a row of the table, for the result shown and again after the next Fuse
(test_s27_web_more_metrics.py checks the values against ``mutualfuse evaluate``)."""
from __future__ import annotations

import time

from test_s27_web_gone_browser import _Page, _wait


def _rows(page) -> list[str]:
    return [ln.strip() for ln in page.all("#metrics")[0].text.splitlines() if "@" in ln]


def test_a_chosen_metric_is_a_row_of_the_table(server, browser):
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#fuse-btn"), 60, "the page")
    page.choose("sample", "tno-01")
    _wait(lambda: all(page.all(f"#input-{w} td.filename") for w in "ab"), 60, "the sample pair")
    page.choose("method", "average")
    assert page.status_after_fuse().startswith("done")
    _wait(lambda: any(r.startswith("SCD (SCD@rfn-nest)") for r in _rows(page)), 60, "the fast metrics")
    assert not any("Qcb@vifb" in r for r in _rows(page))
    box = page.all("#more-metrics input")[0]
    box.click()
    box.send_keys("Qcb@vifb")
    _wait(lambda: [li for li in page.all("li[role=option]")
                   if (li.get_attribute("aria-label") or "").startswith("Qcb@vifb")], 30, "the option")[0].click()
    box.send_keys(Keys.ESCAPE)
    _wait(lambda: any(r.startswith("Qcb@vifb") for r in _rows(page)), 120, "the chosen metric's row")
    _wait(lambda: "1 more metric scored in" in page.all("#more-metrics-note")[0].text, 30, "the note")
    # the next Fuse scores it again for its result
    time.sleep(1)
    assert page.status_after_fuse().startswith("done")
    _wait(lambda: any(r.startswith("Qcb@vifb") for r in _rows(page)) and
          any(r.startswith("SCD (SCD@rfn-nest)") for r in _rows(page)), 120, "the row after the next Fuse")
