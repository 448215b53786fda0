"""Session 29, in Chromium: the upload box's notice of a file over the server's limit says the limit
in the units of Gradio's own toast beside it.

Gradio's toast counts sizes in units of 1024 (its "jedec" units: "File(s) exceed the maximum allowed
size of 27.4 Mb", 27.4 MiB); the box's notice (``PAGE_JS``) counted in units of 1000 and said
"upload limit of 28.8 MB" for the same limit of 28777216 bytes: two numbers for one limit. Gradio's
text is not ours to change; the notice now counts as the toast does and names the units MiB/GiB.
On the server of test_s28_upload_browser.py (``--max-pixels 1000000``)."""
from __future__ import annotations

import re

from test_s27_web_gone_browser import _wait
from test_s28_upload_browser import LIMIT, _open, small  # noqa: F401 - the fixture: a server of its own


def test_the_notice_says_the_limit_as_gradios_toast_does(small, browser):  # noqa: F811
    url, proc, base, files = small
    d = browser
    page = _open(d, url)
    page.all("#input-a input[type=file]")[0].send_keys(str(files / "big.png"))
    toast = _wait(lambda: [t.text for t in page.all("[data-testid=toast-body]") if "big.png" in t.text], 30,
                  "Gradio's toast")[0]
    m = re.search(r"maximum allowed size of ([\d.]+) Mb", toast)
    assert m, toast
    assert m.group(1) == f"{LIMIT / 2 ** 20:.1f}", toast  # Gradio's "Mb" are MiB
    notice = _wait(lambda: [n.text for n in page.all("#input-a .mf-too-large") if n.is_displayed()], 30,
                   "box a's notice")[0]
    size = (LIMIT + 10 ** 6) / 2 ** 20  # big.png: 1 MB over the limit
    assert notice.startswith(f"big.png ({size:.1f} MiB) is larger than this server's upload limit of "
                             f"{m.group(1)} MiB per file: not uploaded"), (notice, toast)
