"""Session 22 audit: which request folders the page keeps (core, no gradio). Only the last 8 of all
requests were kept, so on a shared server 8 requests of other tabs removed the files a tab's
slider still showed (test_s22_long_running_server.py sees the 403 through the real page). Now a
request supersedes only its own tab's (and section's) previous folder; any folder goes after an
hour, and the slider then shows nothing new rather than an error."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PIL import Image

from mutualfuse.web import core


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    for n in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (16, 24)).astype(np.uint8)).save(tmp_path / f"{n}.png")
    return str(tmp_path / "a.png"), str(tmp_path / "b.png")


def _fuse(pair, work, owner=None):
    return core.fuse_request(*pair, core.Settings(method="average", device="cpu"), work, _CACHE, owner=owner)


_CACHE = core.FuserCache()


def test_a_tabs_folder_is_superseded_by_its_own_next_request_only(pair, tmp_path):
    work = tmp_path / "work"
    first = _fuse(pair, work, owner="tab1/pair")
    others = [_fuse(pair, work, owner="tab2/pair") for _ in range(core.KEEP_REQUESTS + 1)]
    assert first.png.is_file() and first.preview_b.is_file()  # removed by the 8th request of tab 2 before
    assert [r.png.parent.exists() for r in others] == [False] * core.KEEP_REQUESTS + [True]
    assert _fuse(pair, work, owner="tab2/stack").png.parent != others[-1].png.parent
    assert others[-1].png.is_file()  # another section of the same tab keeps its own
    again = _fuse(pair, work, owner="tab1/pair")
    assert not first.png.parent.exists() and again.png.is_file()
    assert len(list(work.glob("req-*"))) == 3


def test_requests_without_an_owner_keep_the_last_eight(pair, tmp_path):
    work = tmp_path / "work"
    owned = _fuse(pair, work, owner="tab/pair")
    done = [_fuse(pair, work) for _ in range(core.KEEP_REQUESTS + 2)]
    assert [r.png.parent.exists() for r in done] == [False] * 2 + [True] * core.KEEP_REQUESTS
    assert owned.png.is_file()


def test_a_folder_older_than_an_hour_goes_and_the_slider_shows_nothing_new(pair, tmp_path):
    work = tmp_path / "work"
    old = _fuse(pair, work, owner="tab1/pair")
    state = {"a": str(old.preview_a), "b": str(old.preview_b), "fused": str(old.png)}
    assert core.still_there(core.compare_pair(state, "b vs fused")) == (str(old.preview_b), str(old.png))
    t = time.time() - core.REQUEST_MAX_AGE - 10
    os.utime(old.png.parent, (t, t))
    _fuse(pair, work, owner="tab2/pair")
    assert not old.png.parent.exists()
    # the page empties the slider and says so (app.on_compare: test_s28_webpair_app.py), rather than a 403 error
    assert core.still_there(core.compare_pair(state, "b vs fused")) is None
