"""The lazy ``device`` / ``dtype`` of a classical :class:`mutualfuse.Fuser` read from several
threads (audit of the s20 lazy PyTorch import). ``Fuser.__getattr__`` made them on first use and
then did ``del self.__dict__["_device_spec"]``: two threads reading ``.device`` at once both found
the spec, and the second one's ``del`` raised ``KeyError('_device_spec')`` (281 of 2000 trials
of three threads with ``sys.setswitchinterval(1e-6)``); a thread whose ordinary lookup missed
``device`` just before another thread set it and removed the spec got
``AttributeError: 'Fuser' object has no attribute 'device'``. A Fuser made with ``device=`` and
``dtype=`` as torch objects, or for the network, was never lazy.
"""
from __future__ import annotations

import copy
import pickle
import threading

import pytest
import torch

import mutualfuse.api as api
from mutualfuse import Fuser


def test_two_threads_reading_device_at_once(monkeypatch):
    f = Fuser(method="average")
    assert "device" not in vars(f)  # lazy: otherwise this test tests nothing
    gate = threading.Barrier(2, timeout=20)
    real = api.pick_device

    def pick_device(spec):  # both threads inside __getattr__, past reading the spec, before either sets
        gate.wait()
        return real(spec)

    monkeypatch.setattr(api, "pick_device", pick_device)
    got, errors = {}, []

    def read(name):
        try:
            got[name] = getattr(f, name)
        except BaseException as e:  # noqa: BLE001 - what the old code raised: KeyError('_device_spec')
            errors.append(repr(e))

    threads = [threading.Thread(target=read, args=(n,)) for n in ("device", "dtype")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert got == {"device": torch.device("cpu"), "dtype": torch.float32}
    assert f.device == torch.device("cpu") and f.dtype == torch.float32


def test_getattr_after_another_thread_set_the_device():
    # the state a thread meets when its ordinary lookup of .device failed and, before its
    # __getattr__ ran, another thread set device/dtype and removed the spec
    f = Fuser(method="average")
    assert "device" not in vars(f)
    assert f.device == torch.device("cpu")  # the other thread
    assert Fuser.__getattr__(f, "device") == torch.device("cpu")
    assert Fuser.__getattr__(f, "dtype") == torch.float32
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        Fuser.__getattr__(f, "nope")


def test_lazy_fuser_copies_and_refusals():
    f = Fuser(method="dwt", device="cpu")  # dtype is the network's: a classical method refuses bfloat16 (s21)
    for g in (copy.copy(f), copy.deepcopy(f), pickle.loads(pickle.dumps(f))):
        assert repr(g) == repr(f) == "Fuser('dwt')"
        assert g.dtype == torch.float32 and g.device == torch.device("cpu")
    if not torch.cuda.is_available():  # checked at construction, not on first use
        with pytest.raises(api.ParameterError, match="CUDA is not available"):
            Fuser(method="dwt", device="cuda")
