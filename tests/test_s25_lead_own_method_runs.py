"""Session 25 (lead), from the plugin audit (S2):

* a method of one's own that raises while fusing was ``internal error: ValueError: ...`` (exit 1)
  in ``fuse`` and the same for every pair of ``fuse-dir``: now one line naming the method and the
  line of the user's code (exit 2); an out-of-memory error keeps fuse-dir's advice;
* ``fuse-dir`` records the code digest of a method of one's own with its outputs, so a rerun after
  the method was edited refuses its stale outputs (it skipped them as done).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutualfuse.cli import main
from one_line_error import assert_one_line_error
from registry_state import registries_restored
from xattrs import xattrs_work

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples" / "tno-01"


@pytest.fixture(autouse=True)
def _registries():
    # the methods registered by --import here are not left for the next test file of this process
    # (test_method_param_values enumerates every registered method; s27)
    with registries_restored("s25lead"):
        yield


def _module(tmp_path, name, body):
    mod = tmp_path / f"{name}.py"
    mod.write_text("from mutualfuse.methods import register_method\n\n\n"
                   f"@register_method({name!r}, family='pixel')\ndef {name}(a, b):\n{body}")
    return mod


def test_an_own_method_that_raises_is_named_with_its_line(tmp_path, capsys):
    mod = _module(tmp_path, "s25lead_raises", "    raise ValueError('my method failed')\n")
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, ["fuse", str(SAMPLE / "a.png"), str(SAMPLE / "b.png"), "-o", str(out),
                                   "--import", str(mod), "--method", "s25lead_raises"],
                          "method 's25lead_raises' (s25lead_raises.s25lead_raises) failed: ValueError: "
                          f"my method failed ({mod}, line 6)")
    assert not out.exists()


def test_an_own_method_out_of_memory_keeps_fuse_dirs_advice(tmp_path, capsys):
    mod = _module(tmp_path, "s25lead_nomem", "    raise MemoryError()\n")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(SAMPLE / "a.png", a / "01.png")
    shutil.copy(SAMPLE / "b.png", b / "01.png")
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--import", str(mod),
               "--method", "s25lead_nomem"])
    err = capsys.readouterr().err
    assert rc == 2 and "out of memory (try --tile)" in err and "internal error" not in err, err


def test_fuse_dir_refuses_outputs_of_an_edited_own_method(tmp_path, capsys):
    if not xattrs_work(tmp_path):
        pytest.skip("extended attributes (os.setxattr, user.*) are not available here")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(SAMPLE / "a.png", a / "01.png")
    shutil.copy(SAMPLE / "b.png", b / "01.png")
    mod = _module(tmp_path, "s25lead_mean", "    return (a + b) / 2\n")
    argv = ["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--import", str(mod), "--method", "s25lead_mean"]
    assert main(argv) == 0
    assert main(argv) == 0 and "skipped 1 already done" in capsys.readouterr().out
    mod.write_text(mod.read_text().replace("(a + b) / 2", "(a + 2 * b) / 3"))
    assert_one_line_error(capsys, argv, "made with other options (the method's code (sha256 ")


def test_the_failure_travels_from_a_worker_whole():
    import pickle

    from mutualfuse.methods import OwnMethodFailure

    e = OwnMethodFailure("method 'm' (x.m) failed: ValueError: no (x.py, line 3)", "ValueError: no (x.py, line 3)")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is OwnMethodFailure and str(back) == str(e) and back.described == e.described
    assert back.exit_code == 2
