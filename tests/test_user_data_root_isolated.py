"""The user's ``$MUTUALFUSE_DATA`` does not reach the tests (tests/shared_data.py): exported, it
redirected the tests' tiny training runs to the user's data (documented precedence: it wins over
a config's ``data.root``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_test_sees_the_users_data_root():
    assert "MUTUALFUSE_DATA" not in os.environ


def test_an_exported_data_root_does_not_redirect_a_tests_training_run(tmp_path):
    env = dict(os.environ, MUTUALFUSE_DATA=str(tmp_path), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                        "tests/io/test_audit_s14_export_weights.py::test_an_unknown_architecture_is_not_called_a_missing_entry"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
