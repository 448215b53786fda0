"""``Fuser.fuse``: numpy / PIL / torch in, same kind out; batches; sizes; reports; errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse import Fuser, InputError
from tolerance import assert_close


@pytest.fixture(scope="module")
def pair(samples):
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))[:64, :80]
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))[:64, :80]
    return a, b


def test_numpy_kinds(fuser, pair):
    a, b = pair
    out8 = fuser.fuse(a, b)
    assert out8.dtype == np.uint8 and out8.shape == a.shape
    outf = fuser.fuse(a / 255.0, b / 255.0)
    assert outf.dtype == np.float64 and np.abs(outf * 255 - out8).max() <= 0.5 + 1e-6
    out32 = fuser.fuse((a / 255.0).astype(np.float32), (b / 255.0).astype(np.float32))
    assert out32.dtype == np.float32
    assert fuser.fuse(a[..., None], b[..., None]).shape == a.shape + (1,)
    a16, b16 = a.astype(np.uint16) * 257, b.astype(np.uint16) * 257
    f = Fuser(fuser.report.method, device="cpu", normalize="full")
    out16 = f.fuse(a16, b16)
    assert out16.dtype == np.uint16 and np.abs(out16 / 65535 - out8 / 255).max() < 1 / 255 + 1e-4


def test_batched_equals_single(fuser, pair):
    a, b = pair[0] / 255.0, pair[1] / 255.0
    batch = fuser.fuse(np.stack([a, b]), np.stack([b, a]))
    assert batch.shape == (2,) + a.shape
    # the network runs in float32 whatever the container: batch of 2 vs 1 is float32 rounding
    assert_close(batch[0], fuser.fuse(a, b), dtype=np.float32)
    assert_close(batch[1], fuser.fuse(b, a), dtype=np.float32)


def test_pil_and_torch_kinds(fuser, pair):
    a, b = pair
    ref = fuser.fuse(a, b)
    out = fuser.fuse(Image.fromarray(a), Image.fromarray(b))
    assert isinstance(out, Image.Image) and out.mode == "L" and np.array_equal(np.asarray(out), ref)
    rgb = Image.fromarray(np.stack([a, b, a], -1))
    out = fuser.fuse(rgb, Image.fromarray(b))
    assert out.mode == "RGB" and out.size == rgb.size
    ta, tb = torch.from_numpy(a / 255.0).float(), torch.from_numpy(b / 255.0).float()
    t = fuser.fuse(ta, tb)
    assert isinstance(t, torch.Tensor) and t.shape == ta.shape and t.dtype == torch.float32
    t3 = fuser.fuse(ta[None], tb[None])
    assert t3.shape == (1,) + ta.shape
    tb4 = fuser.fuse(torch.stack([ta, tb])[:, None], torch.stack([tb, ta])[:, None])
    assert tb4.shape == (2, 1) + ta.shape
    assert_close(tb4[0, 0], t, dtype=torch.float32)  # batch of 2 vs 1: other kernels (1.01e-6 on an EPYC)
    tu8 = fuser.fuse(torch.from_numpy(a.copy()), torch.from_numpy(b.copy()))
    assert tu8.dtype == torch.uint8 and np.array_equal(tu8.numpy(), ref)
    tc = fuser.fuse(torch.rand(3, 64, 80), tb[None])
    assert tc.shape == (3, 64, 80)


@pytest.mark.parametrize("h,w", [(8, 8), (9, 13), (31, 17), (130, 67)])
def test_any_size_out_equals_in(fuser, h, w):
    rng = np.random.default_rng(h * w)
    a, b = rng.random((h, w)), rng.random((h, w))
    assert fuser.fuse(a, b).shape == (h, w)


def test_token_budget_is_reported(lively_weights, pair):
    a, b = pair
    exact = Fuser(str(lively_weights), device="cpu", token_budget=0)
    pooled = Fuser(str(lively_weights), device="cpu", token_budget=64)
    e, p = exact.fuse(a, b), pooled.fuse(a, b)
    assert exact.report.mapping_pool == 1 and exact.report.notes == []
    assert pooled.report.mapping_pool > 1 and "pooled grid" in pooled.report.notes[0]
    assert not np.array_equal(e, p)


def test_streaming_gives_the_same_result(lively_weights, pair):
    a, b = pair
    big = Fuser(str(lively_weights), device="cpu")
    small = Fuser(str(lively_weights), device="cpu", max_window_pixels=4096)
    fa, fb = np.tile(a / 255.0, (3, 3)), np.tile(b / 255.0, (3, 3))  # 192 x 240
    x, y = big.fuse(fa, fb), small.fuse(fa, fb)
    assert small.report.windows > 1 and big.report.windows == 1
    assert_close(x, y, dtype=np.float32)


def test_cpu_runner_is_channels_last_and_equals_the_plain_forward(lively_weights, pair):
    """The runner puts CPU models in channels-last (speed); the result is the plain NCHW forward's."""
    import torch

    from mutualfuse.weights import load_model

    a, b = pair
    fuser = Fuser(str(lively_weights), device="cpu")
    w = fuser.net.enc_x.blocks[0].conv1.weight  # (not the stem: with one input channel both layouts coincide)
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    net, _ = load_model(str(lively_weights))
    with torch.inference_mode():
        ref = net.eval()(torch.tensor(a / 255.0, dtype=torch.float32)[None, None],
                         torch.tensor(b / 255.0, dtype=torch.float32)[None, None])
    assert_close(fuser.fuse_gray(a / 255.0, b / 255.0), ref.clamp(0, 1)[0, 0], dtype=np.float32)


def test_classical_method_through_fuser(pair):
    a, b = pair
    out = Fuser("average", device="cpu").fuse(a, b)
    assert np.abs(out.astype(int) - (a.astype(int) + b.astype(int)) / 2).max() <= 1


@pytest.mark.parametrize("a,b,msg", [
    (np.zeros((64, 80)), np.zeros((64, 81)), "size mismatch"),
    (np.zeros((0, 80)), np.zeros((0, 80)), "0 pixels"),
    (np.zeros((64, 80, 2)), np.zeros((64, 80, 2)), "unsupported channel count 2"),
    (np.full((64, 80), 70000, np.int64), np.zeros((64, 80)), "unsupported array dtype"),  # fits no 16-bit type
    (np.full((64, 80), np.nan), np.zeros((64, 80)), "NaN"),
    (np.zeros((4, 80)), np.zeros((4, 80)), "smaller than 8x8"),
    ("a.png", np.zeros((64, 80)), "expected a numpy array"),
])
def test_bad_arrays(fuser, a, b, msg):
    with pytest.raises(InputError, match=msg):
        fuser.fuse(a, b)


def test_blend_temperature_override(pair):
    """`default` ships at T = 0.5; an explicit 0.5 is the same model, T = 1 the trained one."""
    from mutualfuse.errors import ParameterError

    a, b = (x.astype(np.float64) / 255 for x in pair)
    shipped = Fuser("default", device="cpu", task="stored").fuse(a, b)
    assert Fuser("default", device="cpu", task="stored").net.cfg.blend_temperature == 0.5
    assert np.array_equal(Fuser("default", device="cpu", task="stored", blend_temperature=0.5).fuse(a, b), shipped)
    trained = Fuser("default", device="cpu", task="stored", blend_temperature=1.0)
    assert trained.net.cfg.blend_temperature == 1.0
    assert np.abs(trained.fuse(a, b) - shipped).max() > 1e-3
    for bad in (0, -1.0, float("nan"), float("inf"), "0.5"):
        with pytest.raises(ParameterError, match="blend_temperature"):
            Fuser("default", device="cpu", blend_temperature=bad)
    with pytest.raises(ParameterError, match="applies to blend or pyramid"):
        Fuser("paper", device="cpu", blend_temperature=0.5)
    with pytest.raises(ParameterError, match="applies to the network"):
        Fuser("dwt", blend_temperature=0.5)


def test_detail_activity_override(pair):
    """``detail_activity`` adds a soft choose-max rule to the detail bands: 0 is the shipped model
    (which stores 0), more moves the output towards the sharper source per band."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.metrics import sf as spatial_frequency

    a, b = (x.astype(np.float64) / 255 for x in pair)
    shipped = Fuser("centred", device="cpu").fuse(a, b)
    assert Fuser("centred", device="cpu").net.cfg.detail_activity == 0.0
    assert np.array_equal(Fuser("centred", device="cpu", detail_activity=0).fuse(a, b), shipped)
    ruled = Fuser("centred", device="cpu", detail_activity=3000).fuse(a, b)
    assert np.abs(ruled - shipped).max() > 0.02
    sf = [spatial_frequency(f * 255) for f in (shipped, ruled)]
    assert sf[1] > 1.002 * sf[0]
    for bad in (-1.0, 20000.0, float("nan"), "100", True):
        with pytest.raises(ParameterError, match="detail_activity"):
            Fuser("centred", device="cpu", detail_activity=bad)
    with pytest.raises(ParameterError, match="applies to pyramid models"):
        Fuser("blend", device="cpu", detail_activity=100.0)
    with pytest.raises(ParameterError, match="applies to the network"):
        Fuser("dwt", detail_activity=100.0)


def test_task_settings_apply_the_weights_per_task_choice(pair, lively_weights):
    """``task`` applies the settings the shipped weights record for it (an empty record = the
    stored settings); an explicit setting wins; tasks apply to shipped weights that record them,
    never to a classical method."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.tasks import TASKS
    from mutualfuse.weights import SHIPPED, task_settings

    assert dict(SHIPPED["default"].tasks).keys() == set(TASKS)
    assert task_settings("default", "ir-vis")["blend_temperature"] == 0.1
    a, b = (x.astype(np.float64) / 255 for x in pair)
    stored = Fuser("default", device="cpu", task="stored").fuse(a, b)
    for task in TASKS:
        settings = task_settings("default", task)
        f = Fuser("default", device="cpu", task=task)
        assert all(getattr(f.net.cfg, k) == v for k, v in settings.items())
        got = f.fuse(a, b)
        if not settings:
            assert np.array_equal(got, stored)
        else:
            assert np.array_equal(got, Fuser("default", device="cpu", task="stored", **settings).fuse(a, b))
            assert np.abs(got - stored).max() > 0.01
    assert Fuser("default", device="cpu", task="ir-vis", blend_temperature=0.5).net.cfg.blend_temperature == 0.5
    assert Fuser("mutualfuse", device="cpu", task="ir-vis").net.cfg.blend_temperature == 0.1
    with pytest.raises(ParameterError, match="unknown task 'thermal'"):
        Fuser("default", device="cpu", task="thermal")
    with pytest.raises(ParameterError, match="'pyramid' record no per-task settings"):
        Fuser("pyramid", device="cpu", task="ir-vis")
    # the shipped file given by its path is that entry (by sha256); another file records no settings
    from pathlib import Path

    import mutualfuse.weights as mw

    path = Path(mw.__file__).parent / SHIPPED["default"].file
    assert task_settings(str(path), "ir-vis") == task_settings("default", "ir-vis")
    with pytest.raises(ParameterError, match="shipped weights only"):
        Fuser(str(lively_weights), device="cpu", task="ir-vis")
    with pytest.raises(ParameterError, match="applies to the network"):
        Fuser("dwt", task="ir-vis")


def test_task_mode_auto_fuses_each_pair_at_its_detected_tasks_settings(samples, lively_weights):
    """Weights that record per-task settings fuse in task mode auto by default: each pair at the
    settings of the task ``detect_task`` finds (a note says which and why), a batch of pairs of
    different tasks pair by pair, an explicit setting still wins; ``fuse_arrays(task=...)`` fixes
    the task (a video's); weights without per-task settings keep their stored ones."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.image_io import read_gray_float
    from mutualfuse.tasks import detect_task
    from mutualfuse.weights import task_settings

    def crop(name):
        return tuple(read_gray_float(samples / name / f"{r}.png")[:96, :112].astype(np.float64) for r in "ab")

    ir, mf = crop("tno-01"), crop("lytro-01")
    assert detect_task(*ir).task == "ir-vis" and detect_task(*mf).task == "multi-focus"
    f = Fuser("default", device="cpu")
    assert f.task_mode == "auto" and Fuser("default", device="cpu", task="auto").task_mode == "auto"
    for (a, b), task in ((ir, "ir-vis"), (mf, "multi-focus")):
        got = f.fuse(a, b)
        assert f.report.task == task and [d["task"] for d in f.report.detected] == [task]
        assert any(n.startswith(f"task: {task}, detected (low-pass correlation") for n in f.report.notes), f.report.notes
        assert np.array_equal(got, Fuser("default", device="cpu", task=task).fuse(a, b))
        assert all(getattr(f.net.cfg, k) == v for k, v in task_settings("default", task).items())
    # (the IR-VIS setting moves this crop well away from the stored one)
    assert np.abs(f.fuse(*ir) - Fuser("default", device="cpu", task="stored").fuse(*ir)).max() > 0.01
    # a batch holding both tasks: each pair as alone (float32 network: batch vs single is rounding)
    batch = f.fuse(np.stack([ir[0], mf[0]]), np.stack([ir[1], mf[1]]))
    assert f.report.task == "ir-vis,multi-focus" and sum(n.startswith("task: ") for n in f.report.notes) == 2
    for got, (a, b), task in zip(batch, (ir, mf), ("ir-vis", "multi-focus")):
        assert_close(got, Fuser("default", device="cpu", task=task).fuse(a, b), dtype=np.float32)
    # a fixed task for the call (no detection, no note)
    fixed = f.fuse_arrays(ir[0][None], ir[1][None], task="medical")[0]
    assert f.report.task == "medical" and not f.report.detected
    assert np.array_equal(fixed, Fuser("default", device="cpu", task="medical").fuse(*ir))
    with pytest.raises(ParameterError, match="unknown task 'thermal'"):
        f.fuse_arrays(ir[0][None], ir[1][None], task="thermal")
    # explicit settings win over the detected task's
    assert np.array_equal(Fuser("default", device="cpu", detail_activity=0.0).fuse(*ir),
                          Fuser("default", device="cpu", task="ir-vis", detail_activity=0.0).fuse(*ir))
    # weights without per-task settings: stored (no detection); asking for auto is an error
    for w in ("pyramid", str(lively_weights)):
        g = Fuser(w, device="cpu")
        assert g.task_mode == "stored"
        g.fuse(*ir)
        assert g.report.task == "stored" and not any(n.startswith("task:") for n in g.report.notes)
    with pytest.raises(ParameterError, match="'pyramid' record no per-task settings"):
        Fuser("pyramid", device="cpu", task="auto")
    with pytest.raises(ParameterError, match="applies to the network"):
        Fuser("dwt", task="auto")
    classical = Fuser("dwt")
    classical.fuse(*ir)
    assert classical.report.task is None and classical.task_mode is None


def test_detail_gain_override(pair):
    """``detail_gain`` scales the pyramid's detail bands: 1 is the shipped model, > 1 sharper."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.metrics import sf as spatial_frequency

    a, b = (x.astype(np.float64) / 255 for x in pair)
    shipped = Fuser("default", device="cpu").fuse(a, b)
    assert Fuser("default", device="cpu").net.cfg.detail_gain == 1.0
    assert np.array_equal(Fuser("default", device="cpu", detail_gain=1.0).fuse(a, b), shipped)
    sharp = Fuser("default", device="cpu", detail_gain=1.5).fuse(a, b)
    sf = [spatial_frequency(f * 255) for f in (shipped, sharp)]
    assert sf[1] > 1.2 * sf[0]
    for bad in (0.4, 2.5, float("nan"), "1.2", True):
        with pytest.raises(ParameterError, match="detail_gain"):
            Fuser("default", device="cpu", detail_gain=bad)
    with pytest.raises(ParameterError, match="applies to pyramid models"):
        Fuser("blend", device="cpu", detail_gain=1.2)
    with pytest.raises(ParameterError, match="applies to the network"):
        Fuser("dwt", detail_gain=1.2)


def test_bfloat16_on_cpu_fuses_close_to_float32(samples):
    """``dtype="bfloat16"`` on CPU: autocast over float32 weights, the encoders' first levels in
    float32 (:data:`mutualfuse.runner.FLOAT32_LEVELS`); the shipped model with the locality bias
    used to fail there (bfloat16 projections on the mapping's float32 features)."""
    from mutualfuse.runner import FLOAT32_LEVELS

    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))
    ref = Fuser("default", device="cpu").fuse(a, b).astype(np.float64)
    half = Fuser("default", device="cpu", dtype="bfloat16")
    out = half.fuse(a, b)
    assert out.dtype == np.uint8 and out.shape == a.shape
    assert all(p.dtype == torch.float32 for p in half.net.parameters())  # weights stay float32
    assert half.net.enc_x.float32_levels == FLOAT32_LEVELS
    d = np.abs(out - ref)
    # measured 0.03-0.11 grey levels on average and <= 0.08 % of pixels off by > 10 on TNO
    # pairs (benchmarks/bench_half.py); all-bfloat16 was 0.2-1.4 and up to 4 %
    assert d.mean() < 0.5, d.mean()
    assert (d > 10).mean() < 0.005, (d > 10).mean()
    assert any("approximate precision: network in bfloat16" in n for n in half.report.notes)


def test_bfloat16_on_cpu_without_amx_says_it_is_slower(samples, monkeypatch):
    """Without AMX (here: oneDNN limited to AVX2, as on most CPUs) bfloat16 inference is slower
    than float32, and the report says so; with AMX it does not."""
    import mutualfuse.api as api

    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))[:64, :80]
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))[:64, :80]
    for amx in (False, True):
        monkeypatch.setattr(api, "cpu_has_amx_bf16", lambda amx=amx: amx)
        f = Fuser("default", device="cpu", dtype="bfloat16")
        f.fuse(a, b)
        slower = [n for n in f.report.notes if "slower than float32 on this CPU" in n]
        assert bool(slower) == (not amx), f.report.notes
    f32 = Fuser("default", device="cpu")
    f32.fuse(a, b)
    assert not any("precision" in n or "slower" in n for n in f32.report.notes)


def test_amx_detection_honours_onednn_isa_limit(monkeypatch):
    from mutualfuse import cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16", "amx_tile"}))
    for isa, want in (("", True), ("ALL", True), ("AVX512_CORE_AMX", True), ("AVX2", False),
                      ("avx512_core_bf16", False)):
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
        assert cpu.cpu_has_amx_bf16() is want, isa
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    assert cpu.cpu_has_amx_bf16() is False and cpu.cpu_has_native_bf16() is True
