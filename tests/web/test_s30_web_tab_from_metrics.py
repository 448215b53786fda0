"""Session 30, in Chromium: Tab from the "more metrics" box with its list open goes to the next control.

The list of metrics to add is long, so Chromium lets the keyboard focus it (a scroller); Tab from
the box with the list open focused the list, which closes as the box loses the focus: the focus was
left on the page's ``<body>`` (a screen reader says nothing), the next control one more Tab away."""
from __future__ import annotations

from test_s27_web_gone_browser import _Page, _wait

FOCUSED = "const e = document.activeElement; return [e.tagName, !!e.closest('#more-metrics')];"


def test_tab_from_the_open_metrics_list_goes_to_the_next_control(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(server["url"])
    page = _Page(d)
    _wait(lambda: page.all("#more-metrics input"), 60, "the page")
    page.all("#more-metrics input")[0].click()
    _wait(lambda: page.all("ul.option-list li[role=option]"), 30, "the list of metrics open")
    ActionChains(d).send_keys(Keys.TAB).perform()
    _wait(lambda: not page.all("ul.option-list li[role=option]"), 30, "the list closed")
    tag, inside = d.execute_script(FOCUSED)
    assert tag in ("BUTTON", "A", "INPUT", "DIV") and tag != "BODY", tag
    # and Shift+Tab comes back to the box
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert _wait(lambda: d.execute_script(FOCUSED)[1], 10, "the box focused again")
