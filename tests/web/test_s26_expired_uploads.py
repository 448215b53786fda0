"""Session 26 audit: a request after a long idle. Gradio deletes an upload about an hour after it was
sent (the page's ``delete_cache``) while the browser tab still shows it in its upload box; pressing
Fuse again then said ``mutualfuse: error: a.png: file not found``, as if the file had gone from the
user's own disk. The page now says the upload is no longer on the server and to upload it again.
The real page in this process (gradio, no browser), called as the browser calls it: the upload's
server path, which the tab keeps, sent again after the file was deleted."""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

# Gradio's queue (in this process here) summarises its events with pandas, which warns about its own options
pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")
OPTS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("gradio")
    httpx = pytest.importorskip("httpx")
    base = tmp_path_factory.mktemp("s26expired")
    mp = pytest.MonkeyPatch()
    mp.setenv("GRADIO_TEMP_DIR", str(base / "gradio"))
    mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from mutualfuse.web.app import build_app
    from mutualfuse.web.server import free_port

    app = build_app(base / "work", device="cpu")
    app.queue(default_concurrency_limit=1)
    port = free_port("127.0.0.1")
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
               footer_links=[])
    url = f"http://127.0.0.1:{port}"
    deps = httpx.get(url + "/config", timeout=30).json()["dependencies"]
    fns = {d.get("api_name"): d["id"] for d in deps}
    try:
        yield url, fns
    finally:
        app.close(verbose=False)
        mp.undo()


def _upload(url: str, path: Path) -> str:
    import httpx

    r = httpx.post(url + "/gradio_api/upload", files={"files": (path.name, path.read_bytes(), "image/png")},
                   timeout=30)
    r.raise_for_status()
    return r.json()[0]


def _file(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}


def _status(url: str, fn: int, data: list, session: str) -> str:
    """The first output (the status line) of one event, as the page's browser tab sends it."""
    import httpx

    r = httpx.post(url + "/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session},
                   timeout=30)
    r.raise_for_status()
    with httpx.stream("GET", url + f"/gradio_api/queue/data?session_hash={session}", timeout=120) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    assert msg.get("success"), msg
                    return msg["output"]["data"][0]
    raise AssertionError("no result")


def test_a_pair_uploaded_more_than_an_hour_ago_is_asked_for_again(page):
    from mutualfuse.web.core import SAMPLES

    url, fns = page
    a, b = (_upload(url, SAMPLES / "tno-01" / n) for n in ("a.png", "b.png"))
    tab = uuid.uuid4().hex[:10]
    assert _status(url, fns["run"], [_file(a), _file(b), *OPTS, "a vs fused"], tab).startswith("done: ")
    shutil.rmtree(Path(a).parent)  # what Gradio's delete_cache does to an upload older than an hour
    status = _status(url, fns["run"], [_file(a), _file(b), *OPTS, "a vs fused"], tab)
    assert status == ("mutualfuse: error: a.png: no longer on the server (it keeps uploads about 60 minutes): "
                      "upload it again"), status


def test_a_stack_uploaded_more_than_an_hour_ago_is_asked_for_again(page, tmp_path):
    import numpy as np
    from PIL import Image

    url, fns = page
    rng = np.random.default_rng(0)
    files = []
    for name in ("z10.png", "z2.png", "z1.png"):
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(tmp_path / name)
        files.append(_upload(url, tmp_path / name))
    tab = uuid.uuid4().hex[:10]
    data = [[_file(f) for f in files], *OPTS, "tree", "png"]
    assert _status(url, fns["run_stack"], data, tab).startswith("done: ")
    for f in files[:2]:
        shutil.rmtree(Path(f).parent)
    status = _status(url, fns["run_stack"], data, tab)
    # named in the order the page stacks them
    assert status == ("mutualfuse: error: z2.png, z10.png: no longer on the server (it keeps uploads about "
                      "60 minutes): upload them again"), status
