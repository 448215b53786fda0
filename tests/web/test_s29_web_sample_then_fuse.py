"""Session 29, in Chromium: a sample pair picked and Fuse pressed at once fuses the sample picked.

Picking a sample fills the two upload boxes from the server (a round trip, the boxes' progress shown
meanwhile); Fuse pressed before that ended sent the files the boxes held before: the page showed the
earlier pair fused (``done: a-b-average.png``, 360x270, the TNO pair) under the sample selector saying
lytro-01 and its files in the boxes. A press while the page still fills in what Fuse sends now waits
for it (``PAGE_JS``)."""
from __future__ import annotations

from test_s27_web_gone_browser import _wait, fuse_sample


def _new_result(page, timing: str) -> bool:
    """A new result or an error is shown: a new timing line (not the one before), or an error line;
    no request's progress."""
    now, status = page.all("#timing")[0].text, page.all("#status")[0].text
    busy = page.all("#timing [data-testid=status-tracker]:not(.hide), #status [data-testid=status-tracker]:not(.hide)")
    return not busy and ((now != timing and now.startswith("fused in") and status.startswith("done"))
                         or status.startswith("mutualfuse:"))


def test_fuse_pressed_right_after_a_sample_is_picked_fuses_that_sample(server, browser):
    d = browser
    page, status = fuse_sample(d, server["url"], "average", "tno-01")
    assert status.startswith("done"), status
    timing = page.all("#timing")[0].text
    box = page.all("#sample input")[0]
    box.click()
    from selenium.webdriver.common.keys import Keys  # here: without the web extra the module still imports

    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("lytro-01")
    opt = _wait(lambda: [li for li in page.all("li[role=option]")
                         if (li.get_attribute("aria-label") or "").split()[0:1] == ["lytro-01"]], 30, "lytro-01")[0]
    # the option chosen and Fuse pressed in one go: before the boxes can be filled from the server
    d.execute_script("arguments[0].dispatchEvent(new MouseEvent('mousedown', {bubbles: true})); arguments[0].click();"
                     "document.getElementById('fuse-btn').click();", opt)
    _wait(lambda: _new_result(page, timing), 240, "the new result")
    img = _wait(lambda: [i for i in page.all("#fused img") if d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", i)], 60, "the fused image")[0]
    # the Lytro pair is 520x520 colour, the TNO pair 360x270 gray
    assert d.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img) == [520, 520]
    assert "colour" in page.all("#timing")[0].text


def test_fuse_pressed_right_after_a_method_is_picked_sends_its_parameters(server, browser):
    """The same for a method: its parameters box is filled from the server (dwt's ``levels=…``);
    average picked after dwt and Fuse pressed at once sent dwt's parameters to average."""
    d = browser
    page, status = fuse_sample(d, server["url"], "dwt", "tno-01")
    assert status.startswith("done"), status
    assert "levels=" in page.all("#params textarea")[0].get_attribute("value")
    timing = page.all("#timing")[0].text
    box = page.all("#method input")[0]
    box.click()
    from selenium.webdriver.common.keys import Keys  # here: without the web extra the module still imports

    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("average")
    opt = _wait(lambda: [li for li in page.all("li[role=option]")
                         if (li.get_attribute("aria-label") or "").split()[0:1] == ["average"]], 30, "average")[0]
    d.execute_script("arguments[0].dispatchEvent(new MouseEvent('mousedown', {bubbles: true})); arguments[0].click();"
                     "document.getElementById('fuse-btn').click();", opt)
    _wait(lambda: _new_result(page, timing), 240, "the new result")
    status = page.all("#status")[0].text
    assert status == "done: a-b-average.png", status
