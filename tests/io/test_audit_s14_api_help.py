"""``help()`` of the public API objects says what they take and return (audit s14)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from PIL import Image

import mutualfuse


def _params(fn):
    return [p.name for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("fn", [mutualfuse.Fuser.__init__, mutualfuse.fuse], ids=["Fuser", "fuse"])
def test_every_argument_is_documented(fn):
    doc = (mutualfuse.Fuser.__doc__ if fn is mutualfuse.Fuser.__init__ else fn.__doc__) or ""
    missing = [n for n in _params(fn) if n not in doc]
    assert not missing, f"not in the docstring: {missing}"


def test_fuse_stack_returns_the_colour_images_kind_as_its_docstring_says():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (32, 40)).astype(np.uint8)
    colour = Image.fromarray(rng.integers(0, 256, (32, 40, 3)).astype(np.uint8))
    out = mutualfuse.Fuser("average", device="cpu").fuse_stack([gray, colour])
    assert isinstance(out, Image.Image) and out.mode == "RGB"  # the first colour image's kind, not numpy
    doc = " ".join(mutualfuse.Fuser.fuse_stack.__doc__.split())
    assert "The result is the kind of the first image" not in doc
    assert "in the kind of the first colour image" in doc


@pytest.mark.parametrize("call", [lambda: mutualfuse.fuse(np.zeros((8, 8)), np.zeros((8, 8)), method=None),
                                  lambda: mutualfuse.Fuser(None), lambda: mutualfuse.Fuser(3)],
                         ids=["fuse-method-None", "Fuser-None", "Fuser-int"])
def test_a_model_that_is_not_a_name_is_a_clear_type_error(call):
    with pytest.raises(TypeError, match="method|model") as ei:
        call()
    assert "stat:" not in str(ei.value) and "\n" not in str(ei.value)
