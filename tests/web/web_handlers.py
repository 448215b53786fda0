"""The page's event handlers called directly, as Gradio calls them (importable bare: tests/web is
on sys.path): the ``fns`` fixture (handler name → function of one app) and :data:`ARGS`."""
from __future__ import annotations

import pytest

#: the pair section's inputs after the two images, as ``run`` takes them (method, weights, params,
#: chroma, normalize, the rest left at the page's defaults, slider "a vs fused")
ARGS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto", "a vs fused"]


@pytest.fixture(scope="module")
def fns(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}
