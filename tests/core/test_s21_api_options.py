"""Audit s21: one clear error for a setting or a pair the fuser cannot take.

Before: ``Fuser.use_task`` with a task the fuser has no settings for (a typo, a task other than
a fixed-task fuser's, any task on ``--task stored`` / weights without per-task settings / a
classical method) raised a bare ``KeyError: 'ir-vis'``; two batches of equal image sizes but
different lengths were a "size mismatch: a is 16x16, b is 16x16 (batch 2 vs 3)".
"""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from mutualfuse.errors import InputError, ParameterError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("model, kw, task, match", [
    ("default", {}, "ir_vis", r"unknown task 'ir_vis'; tasks: ir-vis, multi-focus, medical"),
    ("default", {}, "stored", r"unknown task 'stored'"),
    ("default", {"task": "stored"}, "ir-vis", r"task mode 'stored'\) has the settings of no task; make a Fuser "
                                              r"with task='ir-vis'"),
    ("default", {"task": "medical"}, "ir-vis", r"task mode 'medical'\) has the settings of medical"),
    ("paper", {}, "ir-vis", r"weights 'paper' record no per-task settings"),
    ("average", {}, "ir-vis", r"task settings apply to the network, not to method 'average'"),
])
def test_use_task_refuses_a_task_the_fuser_has_no_settings_for(model, kw, task, match):
    f = mutualfuse.Fuser(model, device="cpu", **kw)
    with pytest.raises(ParameterError, match=match) as err:
        f.use_task(task)
    assert "\n" not in str(err.value)


def test_use_task_of_the_fusers_own_tasks_still_sets_them():
    f = mutualfuse.Fuser("default", device="cpu")
    for task in ("ir-vis", "multi-focus", "medical"):
        f.use_task(task)
        assert {k: getattr(f.net.cfg, k) for k in f._task_cfg[task]} == f._task_cfg[task]


@pytest.mark.parametrize("shape_a, shape_b, message", [
    ((2, 16, 16), (3, 16, 16), "batch mismatch: a has 2 images, b has 3"),
    ((2, 16, 16, 3), (3, 16, 16), "batch mismatch: a has 2 images, b has 3"),
    ((2, 16, 16), (2, 16, 17), "size mismatch: a is 16x16, b is 17x16"),
    ((2, 16, 16), (3, 16, 17), "size mismatch: a is 16x16, b is 17x16 (batch 2 vs 3)"),
])
def test_batches_of_different_lengths_are_a_batch_mismatch(shape_a, shape_b, message):
    f = mutualfuse.Fuser("average")
    with pytest.raises(InputError) as err:
        f.fuse(np.zeros(shape_a, np.uint8), np.zeros(shape_b, np.uint8))
    assert str(err.value) == message
