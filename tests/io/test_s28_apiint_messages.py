"""The Python API's messages in the API's words (session 28, apiint).

``Fuser(device="cuda")`` on a machine without CUDA said ``--device cuda: CUDA is not available``:
the command line's option, which a Python user never typed. ``Fuser("default", levels=3)`` said
the parameters "apply to classical methods (--method)". The network's task note said only
``--task chooses another``, the policy note only ``--normalize / --percentiles``. The API now
names its keywords (the notes, which the command line prints too, name both).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mutualfuse import Fuser, ParameterError  # noqa: E402
from mutualfuse.validation import pick_device  # noqa: E402


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a machine with a GPU


@pytest.mark.parametrize("model", ["average", "default"])
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_fuser_on_a_device_without_cuda_names_the_keyword(no_cuda, model, device):
    with pytest.raises(ParameterError) as e:
        Fuser(model, device=device)
    msg = str(e.value)
    assert msg.startswith(f"device={device!r}: CUDA is not available on this machine"), msg
    assert "--device" not in msg and "\n" not in msg, msg
    assert "device='cpu'" in msg, msg


def test_fuse_and_from_model_name_the_keyword_too(no_cuda):
    from mutualfuse import fuse
    from mutualfuse.weights import load_model

    a = np.zeros((16, 16), np.uint8)
    with pytest.raises(ParameterError, match=r"^device='cuda': CUDA is not available"):
        fuse(a, a, method="average", device="cuda")
    net, meta = load_model("default")
    with pytest.raises(ParameterError, match=r"^device='cuda': CUDA is not available"):
        Fuser.from_model(net, device="cuda")


def test_the_command_line_callers_keep_their_wording(no_cuda):
    """pick_device as the web server and the benchmark call it: their option's words."""
    with pytest.raises(ParameterError, match=r"^--device cuda: CUDA is not available on this machine$"):
        pick_device("cuda")
    with pytest.raises(ParameterError, match=r"^device must be cpu, cuda or auto, got 'tpu'$"):
        pick_device("tpu", api=True)


def test_method_parameters_for_the_network_name_the_api_way():
    with pytest.raises(ParameterError) as e:
        Fuser("default", device="cpu", levels=3)
    msg = str(e.value)
    assert "the network takes no method parameters (got levels)" in msg, msg
    assert "Fuser('dwt', levels=3)" in msg and "--method" not in msg, msg


def test_the_detected_task_note_names_the_keyword():
    from importlib.resources import files

    from PIL import Image

    ir, vis = (np.asarray(Image.open(files("mutualfuse") / f"data/samples/tno-01/{n}.png"))[:64, :64] for n in "ab")
    f = Fuser("default", device="cpu")
    f.fuse(ir, vis)
    note = [n for n in f.report.notes if n.startswith("task: ")]
    assert len(note) == 1 and note[0].endswith("; task= / --task chooses another"), f.report.notes
