"""The command line starts without PyTorch (``mutualfuse --help`` in a fraction of a second),
and a Ctrl+C while a command's modules still load is the one-line "interrupted", exit 130."""
from __future__ import annotations

import subprocess
import sys


def test_building_the_parser_and_importing_the_package_load_no_torch():
    code = ("import sys, mutualfuse, mutualfuse.cli, mutualfuse.train.recipes\n"
            "mutualfuse.cli.build_parser()\n"
            "print('torch' in sys.modules)\n"
            "from mutualfuse import Fuser\n"  # the public API still there, loaded on use
            "print('torch' in sys.modules, Fuser.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "mutualfuse.api"]  # Fuser loads torch when a network runs (s20)


def test_ctrl_c_while_the_commands_load_is_one_line(monkeypatch, capsys):
    import mutualfuse.cli as cli

    def slow_import():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", slow_import)
    assert cli.main(["fuse", "a.png", "b.png", "-o", "f.png"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mutualfuse: interrupted"]


def test_lazy_names_of_the_training_package():
    import mutualfuse.train as t
    from mutualfuse.train import DataConfig, TrainConfig, Trainer, train

    assert {"DataConfig", "TrainConfig", "Trainer", "train"} <= set(dir(t))
    assert TrainConfig().data.__class__ is DataConfig and callable(train) and Trainer.__module__.endswith("loop")
