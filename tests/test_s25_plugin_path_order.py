"""``--import path/to/mymethod.py`` puts the module's folder on ``sys.path`` (so that it can import
its neighbours, and the ``-j N`` workers find it). It was put first, as ``python FILE`` has it, so a
``json.py`` (``code.py``, ``random.py``, …) beside the module hid that standard module from every
later import: a spawned ``fuse-dir -j 2`` worker, which imports ``json`` itself, failed to start
("a -j 2 worker could not start: … the user's json.py"), the benchmark's crashed
("internal error: BrokenProcessPool"). Now the folder goes after the standard library and before
the installed packages; the module still imports its neighbours."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_state import registries_restored  # noqa: E402

METHOD = textwrap.dedent('''
    from mutualfuse.methods import register_method
    from s25helper import WEIGHT  # a neighbour of this file

    @register_method("{name}", family="pixel")
    def s25mean(a, b, w=WEIGHT):
        return w * a + (1 - w) * b
''')


def _plugin_folder(root: Path, name: str) -> Path:
    plug = root / "my plugins"  # a space in the path, as a researcher's folder may have
    plug.mkdir()
    (plug / f"{name}_mod.py").write_text(METHOD.format(name=name))
    (plug / "s25helper.py").write_text("WEIGHT = 0.25\n")
    (plug / "json.py").write_text("raise RuntimeError('the json.py beside the module was imported')\n")
    (plug / "tabnanny.py").write_text("raise RuntimeError('the tabnanny.py beside the module was imported')\n")
    return plug


def test_the_modules_folder_does_not_hide_standard_modules(tmp_path, monkeypatch):
    from mutualfuse.plugins import import_user_module

    monkeypatch.setattr(sys, "path", list(sys.path))
    plug = _plugin_folder(tmp_path, "s25po")
    with registries_restored("s25po"):
        assert import_user_module(str(plug / "s25po_mod.py")) == ["s25po"]  # its neighbour imported
        spec = importlib.util.find_spec("tabnanny")  # a standard module nothing here has imported
        assert spec is not None and Path(spec.origin).parent != plug, spec.origin
        assert str(plug) in sys.path
        sys.modules.pop("s25po_mod", None)
        sys.modules.pop("s25helper", None)


def test_spawned_fuse_dir_workers_start_beside_a_json_py(tmp_path):
    plug = _plugin_folder(tmp_path, "s25pw")
    rng = np.random.default_rng(0)
    for side in ("ir", "vis"):
        (tmp_path / side).mkdir()
        for i in range(2):
            Image.fromarray((rng.random((40, 48)) * 255).astype(np.uint8)).save(tmp_path / side / f"0{i}.png")
    argv = ["fuse-dir", str(tmp_path / "ir"), str(tmp_path / "vis"), "-o", str(tmp_path / "out"), "--import",
            str(plug / "s25pw_mod.py"), "--method", "s25pw", "-j", "2", "-q"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # -c: the working folder (tmp_path, no json.py) on the path, not the plugin's folder
    r = subprocess.run([sys.executable, "-c", "import sys; from mutualfuse.cli import main; sys.exit(main(sys.argv[1:]))",
                        *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "json.py" not in r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00.png", "01.png"]
