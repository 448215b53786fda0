"""Session 30: the result a page shows stays on the server while the page's next request runs.

A request of a page (browser tab) superseded its previous request's folder as it began: while a
pair's metrics were scored (seen in Chromium on a 1600x1600 pair, method max), the slider's images
of the result still shown were gone, and picking the other source for the slider said "this result
is no longer on the server (results are kept about 60 minutes, or the server was restarted): press
Fuse again" and emptied it (a stack's files likewise while it fused; its selector is covered by
its progress meanwhile). The folder is now removed when the next result is made (a failed
request's folder at the page's next request). Core, no gradio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import FuseError
from mutualfuse.web import core

_CACHE = core.FuserCache()
SETTINGS = core.Settings(method="average", device="cpu")


@pytest.fixture
def planes(tmp_path):
    rng = np.random.default_rng(30)
    out = []
    for k in range(3):
        Image.fromarray(rng.integers(0, 256, (16, 24)).astype(np.uint8)).save(tmp_path / f"z{k}.png")
        out.append(str(tmp_path / f"z{k}.png"))
    return out


def test_the_stack_shown_stays_while_the_next_stack_fuses(planes, tmp_path):
    work = tmp_path / "work"
    first = core.fuse_stack_request(planes, SETTINGS, work, _CACHE, owner="tab/stack")
    shown = [Path(p) for _, p in first.planes] + [first.preview]
    seen = []
    again = core.fuse_stack_request(planes, SETTINGS, work, _CACHE, owner="tab/stack",
                                    progress=lambda done, total: seen.append(all(p.is_file() for p in shown)))
    assert seen and all(seen), seen
    assert not any(p.exists() for p in shown)  # superseded once the next result is made
    assert all(Path(p).is_file() for _, p in again.planes)


def test_the_pair_shown_stays_while_the_next_pair_is_scored(planes, tmp_path, monkeypatch):
    work = tmp_path / "work"
    first = core.fuse_request(planes[0], planes[1], SETTINGS, work, _CACHE, owner="tab/pair")
    shown = [first.preview_a, first.preview_b, first.png]
    seen = []
    scores = core._scores
    monkeypatch.setattr(core, "_scores", lambda *a, **k: seen.append(all(p.is_file() for p in shown)) or scores(*a, **k))
    again = core.fuse_request(planes[0], planes[2], SETTINGS, work, _CACHE, owner="tab/pair")
    assert seen == [True]
    assert not any(p.exists() for p in shown) and again.png.is_file()


def test_a_failed_request_keeps_the_result_shown_and_its_folder_goes_at_the_next(planes, tmp_path):
    work = tmp_path / "work"
    first = core.fuse_stack_request(planes, SETTINGS, work, _CACHE, owner="tab/stack")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(FuseError):
        core.fuse_stack_request([*planes, str(bad)], SETTINGS, work, _CACHE, owner="tab/stack")
    assert first.preview.is_file()  # the page still shows it
    folders = sorted(p for p in work.iterdir() if p.name.startswith("req-"))
    assert len(folders) == 2, folders
    core.fuse_stack_request(planes, SETTINGS, work, _CACHE, owner="tab/stack")
    assert len([p for p in work.iterdir() if p.name.startswith("req-")]) == 1
