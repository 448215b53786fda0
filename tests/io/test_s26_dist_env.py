"""A shell with WORLD_SIZE left from another job (no torchrun rendezvous) gets one line, exit 2,
before any work (session 26: ``internal error: ValueError: Error initializing torch.distributed
using env:// rendezvous: environment variable MASTER_ADDR expected``, exit 1)."""
import pytest
from one_line_error import assert_one_line_error

from mutualfuse.dist_env import dist_env
from mutualfuse.errors import ParameterError


def test_fuse_dir_with_a_stray_world_size(tmp_path, capsys, monkeypatch):
    import numpy as np
    from PIL import Image

    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        Image.fromarray(np.full((16, 16), 100 if d == "a" else 150, np.uint8)).save(tmp_path / d / "01.png")
    a, b = tmp_path / "a" / "01.png", tmp_path / "b" / "01.png"
    for v in ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    out = tmp_path / "out"
    assert_one_line_error(capsys, ["fuse-dir", str(a.parent), str(b.parent), "-o", str(out), "--method", "average"],
                          "WORLD_SIZE=2 is set but MASTER_ADDR and MASTER_PORT are not", "torchrun")
    assert not out.exists()


@pytest.mark.parametrize("env, ok", [({}, (0, 1, 0)),
                                     ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1",
                                       "MASTER_PORT": "29500"}, (1, 2, 1)),
                                     ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1"}, "MASTER_PORT is not"),
                                     ({"WORLD_SIZE": "x"}, "must be integers"),
                                     ({"WORLD_SIZE": "2", "RANK": "2"}, "outside WORLD_SIZE=2")])
def test_dist_env(monkeypatch, env, ok):
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(v, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if isinstance(ok, tuple):
        assert dist_env() == ok
    else:
        with pytest.raises(ParameterError, match=ok):
            dist_env()


@pytest.mark.parametrize("env, needle", [({"WORLD_SIZE": "2", "RANK": "0"}, "MASTER_ADDR and MASTER_PORT are not"),
                                         ({"WORLD_SIZE": "x"}, "must be integers")])
def test_train_with_a_stray_world_size(tmp_path, capsys, monkeypatch, env, needle):
    """train gave 'internal error: ValueError' (exit 1) for both."""
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(v, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  root: /nonexistent\n")
    assert_one_line_error(capsys, ["train", "--config", str(cfg), "-o", str(tmp_path / "out")], needle)
    assert not (tmp_path / "out").exists()
