#!/usr/bin/env python3
"""Issue 10, item 5: the paper-scale runs (160,000 samples of 256²) of `default` and `paper` on one GPU.

One prepared command for a GPU lent for a few minutes. It trains three chains side by side on
the same device, each a ``mutualfuse train`` process per stage (configs/gpu/):

* ``paper-gpu``: the paper's recipe (configs/gpu/paper-gpu.yaml), 2500 steps of batch 64;
* ``default-gpu``: `default`'s network and recipe from random weights, two stages
  (default-gpu-s1.yaml: 1000 steps of batch 64 at gradient weight 0.2, then default-gpu-s2.yaml: 1500
  at 5);
* ``default-gpu-cont``: the shipped `default` trained 2500 more steps of batch 64 of its recipe.

The device is lent for a fixed time, so the script first **calibrates**: every chain's first stage
runs ``--calibrate-s`` seconds (concurrently, as later), its images/s is read from its log, and each
chain's step counts are scaled down (all stages alike) only if the nominal 160,000 samples would not
fit in ``--budget-s``. The first stage then resumes from its calibration checkpoint with the final
step count, so its samples are exactly those of one run of that length; its learning rate during
the calibration steps followed the nominal schedule (the same values when the calibration ends
inside the warm-up or the schedule is constant, or when nothing was scaled). Every stage still
gets ``--time-limit`` as a safety net (a stage stopped by it says so in its weights' metadata).

With ``--profile`` it first runs ``benchmarks/profile_train_step.py`` on the device for the chains'
first-stage recipes at their batch and crop (a few steps each, bf16 autocast as the trainer; the
time of each stage and the operators by kind in GPU time), so that a session learns where the GPU
time goes; its output is ``profile.txt`` in the archive.

Everything a later CPU session needs comes back in one archive, ``OUT/gpu_runs.tar.gz`` (each
stage's config, log, stdout/stderr, final weights and last checkpoint, and ``report.json`` with the
calibration, the chosen steps and what each stage reached), re-written every ``--pack-every``
seconds so that a command stopped from outside still returns what was done.

Usage on the GPU machine (the repository root; the data root holds ``train/roadscene``)::

    PYTHONPATH=src python3 scripts/gpu_paper_scale.py --data-root .gpudata --out "$OUT"

Back on the CPU machine, unpack the archive into a new folder with::

    python scripts/gpu_paper_scale.py unpack gpu_runs.tar.gz runs-log/gpu-DATE

which takes regular files and folders only: an archive with a link, a device or special file, or a
member whose path is absolute or holds ``..``, is refused with a one-line error (exit 2) before
anything is written, and the folder appears only once every file is out (tarfile's ``data``
extraction filter where Python has it, 3.11.4+; the same checks by hand before). Packing, on the
device, takes only regular files inside the work folder: a symbolic link there (or a chain folder
that links elsewhere) is left out, never followed or recorded.

A dry run on CPU with tiny settings (what the tests run)::

    python scripts/gpu_paper_scale.py --data-root $MUTUALFUSE_DATA --out /tmp/g --device cpu \\
        --crop 64 --batch 2 --steps-scale 0.002 --calibrate-s 5 --budget-s 60 --workers 0
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CHAINS: dict[str, list[str]] = {
    "paper-gpu": ["configs/gpu/paper-gpu.yaml"],
    "default-gpu": ["configs/gpu/default-gpu-s1.yaml", "configs/gpu/default-gpu-s2.yaml"],
    "default-gpu-cont": ["configs/gpu/default-gpu-cont.yaml"],
}
#: seconds a stage spends outside its training steps (start, data loading, final validation)
STAGE_OVERHEAD_S = 25.0
KEEP = ("config.json", "log.csv", "final.safetensors", "last.ckpt", "stdout.txt", "stderr.txt", "stage.json")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stage_configs(args: argparse.Namespace, work: Path) -> dict[str, list[dict]]:
    """Each chain's stage configs as dicts, with the run's overrides (out_dir, test settings)."""
    from mutualfuse.train import TrainConfig

    out: dict[str, list[dict]] = {}
    for chain, files in CHAINS.items():
        if args.chains and chain not in args.chains:
            continue
        stages = []
        for k, f in enumerate(files):
            cfg = TrainConfig.load(ROOT / f)
            d = cfg.to_dict()
            d["out_dir"] = str(work / chain / f"stage{k + 1}")
            if args.crop:
                d["data"]["crop"] = args.crop
            if args.batch:
                d["batch_size"] = args.batch
            if args.workers is not None:
                d["data"]["num_workers"] = args.workers
            if args.val_every is not None:
                d["val_every"] = args.val_every
            d["steps"] = max(1, int(round(cfg.steps * args.steps_scale)))
            if k > 0:  # a later stage starts from the previous stage's final weights
                d["init_weights"] = str(work / chain / f"stage{k}" / "final.safetensors")
            stages.append({"source": f, "config": d})
        out[chain] = stages
    return out


def child_env() -> dict[str, str]:
    """The environment of the processes this script starts: the repository's src/ importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def run_stage(cfg: dict, data_root: str, device: str, time_limit: float, resume: bool) -> dict:
    """One ``mutualfuse train`` process for a stage config (written to its out_dir)."""
    out = Path(cfg["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    cpath = out / "stage_config.json"
    cpath.write_text(json.dumps(cfg, indent=2))
    cmd = [sys.executable, "-m", "mutualfuse", "train", "--config", str(cpath), "--data-root", data_root,
           "--device", device, "--no-progress", "--time-limit", f"{max(1.0, time_limit):.0f}"]
    if resume:
        cmd.append("--resume")
    t0 = time.perf_counter()
    with open(out / "stdout.txt", "a") as so, open(out / "stderr.txt", "a") as se:
        rc = subprocess.call(cmd, stdout=so, stderr=se, env=child_env(), cwd=str(ROOT))
    return {"rc": rc, "wall_s": round(time.perf_counter() - t0, 1), "cmd": " ".join(cmd[1:])}


def log_rows(out: Path) -> list[dict]:
    p = out / "log.csv"
    if not p.exists():
        return []
    with open(p, newline="") as fh:
        return list(csv.DictReader(fh))


def measured_rate(out: Path, batch: int) -> float | None:
    """Training images/s from a log: steps between its first and last rows over the training time
    between them (the log's elapsed_s excludes validation); None with fewer than two rows."""
    rows = log_rows(out)
    if len(rows) < 2:
        return None
    s0, s1 = int(rows[0]["step"]), int(rows[-1]["step"])
    e0, e1 = float(rows[0]["elapsed_s"]), float(rows[-1]["elapsed_s"])
    if s1 <= s0 or e1 <= e0:
        return None
    return (s1 - s0) * batch / (e1 - e0)


def weights_meta(path: Path) -> dict:
    if not path.exists():
        return {}
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        md = fh.metadata() or {}
    return {k: md[k] for k in ("steps", "wall_time_s", "machine", "final_train_loss", "precision", "stopped") if k in md}


#: paths pack() left out because they were links or led outside the work folder (logged once each)
_SKIPPED: set[str] = set()


def _add_regular(tar: tarfile.TarFile, p: Path, arcname: str, root: Path) -> None:
    """Add ``p`` to ``tar`` as a regular file, only if it is one inside ``root``: a symbolic link
    (``p`` itself, or a folder on its way that leads out of ``root``) is neither followed nor
    recorded (logged once). The file is opened without following a link (``O_NOFOLLOW``) and
    its tar entry made from that open file, so that a link put in its place meanwhile is refused."""
    if p.is_symlink() or not p.resolve().is_relative_to(root):
        if str(p) not in _SKIPPED:
            _SKIPPED.add(str(p))
            log(f"pack: left out {p}: a symbolic link or outside {root}")
        return
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        ti = tar.gettarinfo(arcname=arcname, fileobj=fh)
        tar.addfile(ti, fh)


def pack(work: Path, out_dir: Path, report: dict) -> None:
    """Write ``out_dir/gpu_runs.tar.gz`` (atomically) with every stage's small files + report.json:
    regular files inside ``work`` only (:func:`_add_regular`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    root = work.resolve()
    tmp = out_dir / "gpu_runs.tar.gz.part"
    with tarfile.open(tmp, "w:gz") as tar:
        data = json.dumps(report, indent=2).encode()
        ti = tarfile.TarInfo("gpu_runs/report.json")
        ti.size, ti.mtime = len(data), int(time.time())
        tar.addfile(ti, io.BytesIO(data))
        files = [work / "profile.txt"] if (work / "profile.txt").exists() else []
        files += [p for p in sorted(work.glob("*/stage*/*")) if p.name in KEEP or p.name == "stage_config.json"]
        for p in files:
            try:
                _add_regular(tar, p, f"gpu_runs/{p.relative_to(work)}", root)
            except (OSError, tarfile.TarError):  # a file being replaced right now: next pack
                pass
    os.replace(tmp, out_dir / "gpu_runs.tar.gz")


class UnpackError(Exception):
    """An archive :func:`unpack` refuses or cannot read (its message is one line)."""


def _checked_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """Every member of ``tar``, or :class:`UnpackError` for the first that is not a regular file
    or folder (a symbolic or hard link, a device, a FIFO) or whose path is absolute, holds ``..``
    or is empty."""
    members = tar.getmembers()
    for m in members:
        if not (m.isreg() or m.isdir()):
            kind = "symbolic link" if m.issym() else "hard link" if m.islnk() else "special file"
            raise UnpackError(f"{archive}: member {m.name!r} is a {kind}; only regular files and folders are "
                              f"unpacked (nothing written)")
        parts = PurePosixPath(m.name).parts
        if not parts or m.name.startswith("/") or ".." in parts:
            raise UnpackError(f"{archive}: member {m.name!r} has an absolute path or '..'; refused (nothing written)")
    return members


def unpack(archive: Path, dest: Path, use_filter: bool | None = None) -> int:
    """Unpack the archive ``pack`` wrote (``gpu_runs.tar.gz``) into the new folder ``dest``;
    the number of files. Every member is checked first (:func:`_checked_members`), then the
    members are extracted into a temporary folder beside ``dest`` with tarfile's ``data``
    filter (``use_filter`` None: where this Python has it, 3.11.4+), or one by one as regular
    files (older 3.11), with the umask's permissions; the folder is renamed to ``dest`` once
    all is out, and removed on any error. :class:`UnpackError` (one line) for what is refused."""
    if use_filter is None:
        use_filter = hasattr(tarfile, "data_filter")
    if dest.exists() or dest.is_symlink():
        raise UnpackError(f"{dest}: already exists; unpack into a new folder")
    if not dest.parent.is_dir():
        raise UnpackError(f"{dest.parent}: no such folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.part-", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700: give the folder the umask's bits
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = _checked_members(tar, archive)
            if use_filter:
                def keep_umask(m: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
                    # mode None: files and folders are made with the umask's permissions
                    return tarfile.data_filter(m, path).replace(mode=None, deep=False)

                tar.extractall(tmp, members=members, filter=keep_umask)
            else:  # Python 3.11.0-3.11.3: no filters; the checks above refused links and unsafe paths
                for m in members:
                    target = tmp.joinpath(*PurePosixPath(m.name).parts)
                    if m.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    src = tar.extractfile(m)
                    with open(target, "wb") as fh:
                        shutil.copyfileobj(src, fh)
        n = sum(1 for m in members if m.isreg())
        os.rename(tmp, dest)
        return n
    except UnpackError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except FileNotFoundError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UnpackError(f"{e.filename or archive}: no such file") from None
    except (OSError, EOFError, tarfile.TarError, ValueError) as e:  # zlib.error is not an OSError: below
        shutil.rmtree(tmp, ignore_errors=True)
        raise UnpackError(f"{archive}: cannot unpack ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    except Exception as e:  # noqa: BLE001 - zlib.error (a corrupt gzip stream) and the like
        shutil.rmtree(tmp, ignore_errors=True)
        raise UnpackError(f"{archive}: cannot unpack ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def unpack_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gpu_paper_scale.py unpack",
                                 description="Unpack gpu_runs.tar.gz into a new folder: regular files and folders "
                                             "only (links, special files, absolute or '..' paths refused)")
    ap.add_argument("archive", type=Path)
    ap.add_argument("dest", type=Path, help="a folder that does not exist yet")
    args = ap.parse_args(argv)
    try:
        n = unpack(args.archive, args.dest)
    except UnpackError as e:
        print(f"gpu_paper_scale.py unpack: {e}", file=sys.stderr)
        return 2
    print(f"unpacked {n} files into {args.dest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["unpack"]:
        return unpack_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Back on the CPU machine: python scripts/gpu_paper_scale.py unpack "
                                        "gpu_runs.tar.gz NEW_FOLDER (see: unpack --help). A dry run on a CPU: "
                                        "--device cpu with tiny settings (the module docstring).")
    ap.add_argument("--data-root", required=True, help="data root holding train/roadscene")
    ap.add_argument("--out", required=True, help="folder for gpu_runs.tar.gz (the device's $OUT)")
    ap.add_argument("--work", default="runs/gpu", help="where the stages write (default runs/gpu)")
    ap.add_argument("--device", default="cuda", help="where the stages train (default cuda; cpu for a dry run)")
    ap.add_argument("--budget-s", type=float, default=430.0,
                    help="seconds from the start of this script by which every stage must have finished")
    ap.add_argument("--calibrate-s", type=float, default=25.0, help="seconds of the calibration steps")
    ap.add_argument("--pack-every", type=float, default=40.0)
    ap.add_argument("--chains", nargs="+", choices=sorted(CHAINS), help="only these chains")
    ap.add_argument("--profile", action="store_true",
                    help="first profile one training step of each chain's first-stage recipe (profile.txt)")
    ap.add_argument("--profile-timeout", type=float, default=120.0, help="seconds the profile may take at most")
    # test settings (a dry run on CPU); the GPU run uses the configs as they are
    ap.add_argument("--steps-scale", type=float, default=1.0, help="multiply every stage's nominal steps")
    ap.add_argument("--crop", type=int)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--val-every", type=int)
    args = ap.parse_args(argv)
    if not (Path(args.data_root) / "train" / "roadscene").is_dir():  # before runs/gpu is made
        ap.error(f"--data-root {args.data_root}: no train/roadscene there (the training data)")
    if str(args.device).startswith("cuda"):  # before anything is written: every stage would fail on it
        import torch

        if not torch.cuda.is_available():
            ap.error(f"--device {args.device}: CUDA is not available on this machine (torch {torch.__version__}); "
                     "this script is for a lent GPU (a dry run here: --device cpu with tiny settings, see its "
                     "docstring)")

    t_start = time.perf_counter()
    deadline = t_start + args.budget_s
    work = (ROOT / args.work).resolve() if not os.path.isabs(args.work) else Path(args.work)
    out_dir = Path(args.out)
    chains = stage_configs(args, work)
    report: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": vars(args), "chains": {}}
    try:
        import torch

        report["torch"] = torch.__version__
        report["device_name"] = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    except Exception as e:  # noqa: BLE001 - recorded, the stages will fail loudly themselves
        report["device_error"] = repr(e)
    log(f"device: {report.get('device_name', report.get('device_error'))}, torch {report.get('torch')}")

    stop = threading.Event()
    # one pack at a time: the packer's and the final one wrote the same .part file, and one
    # os.replace then failed with FileNotFoundError (seen once in a CPU dry run)
    pack_lock = threading.Lock()

    def packer() -> None:
        while not stop.wait(args.pack_every):
            try:
                with pack_lock:
                    pack(work, out_dir, report)
            except Exception as e:  # noqa: BLE001
                log(f"pack failed: {e!r}")

    packer_thread = threading.Thread(target=packer, daemon=True)
    packer_thread.start()

    if args.profile:  # 0. where one training step's time goes, before anything competes for the device
        work.mkdir(parents=True, exist_ok=True)
        recipes = ",".join(str(Path(chains[c][0]["source"]).with_suffix("")).removeprefix("configs/") for c in chains)
        first = next(iter(chains.values()))[0]["config"]
        cmd = [sys.executable, str(ROOT / "benchmarks/profile_train_step.py"), "--device", args.device,
               "--recipes", recipes, "--batch", str(first["batch_size"]), "--size", str(first["data"]["crop"]),
               "--steps", "3", "--threads", "2", "--ops", "15"]
        t0 = time.perf_counter()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.profile_timeout, cwd=str(ROOT),
                               env=child_env())
            text, rc = r.stdout + r.stderr[-3000:], r.returncode
        except subprocess.TimeoutExpired as e:
            text, rc = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
        (work / "profile.txt").write_text(f"# {' '.join(cmd[1:])}\n# rc {rc}, {time.perf_counter() - t0:.1f} s\n{text}")
        report["profile"] = {"rc": rc, "s": round(time.perf_counter() - t0, 1)}
        log(f"profile: rc {rc}, {report['profile']['s']} s")

    # 1. calibration: every chain's first stage, concurrently, for calibrate-s seconds
    results: dict[str, dict] = {}

    def calibrate(chain: str) -> None:
        first = chains[chain][0]["config"]
        results[chain] = run_stage(first, args.data_root, args.device, args.calibrate_s, resume=False)

    threads = [threading.Thread(target=calibrate, args=(c,)) for c in chains]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    now = time.perf_counter()
    left = deadline - now
    for chain, stages in chains.items():
        first = stages[0]["config"]
        rate = measured_rate(Path(first["out_dir"]), first["batch_size"])
        rows = log_rows(Path(first["out_dir"]))
        calib_steps = int(rows[-1]["step"]) if rows else 0
        nominal = [s["config"]["steps"] for s in stages]
        samples = sum(n * s["config"]["batch_size"] for n, s in zip(nominal, stages))
        need = None if rate is None else samples / rate + STAGE_OVERHEAD_S * len(stages)
        scale = 1.0 if need is None or need <= left else max(0.01, (left - STAGE_OVERHEAD_S * len(stages)) / (samples / rate))
        steps = [max(1, int(n * min(1.0, scale))) for n in nominal]
        steps[0] = max(steps[0], calib_steps)
        for s, n in zip(stages, steps):
            s["config"]["steps"] = n
        report["chains"][chain] = {
            "calibration": {**results.get(chain, {}), "steps": calib_steps,
                            "images_per_s": None if rate is None else round(rate, 1)},
            "nominal_steps": nominal, "steps": steps,
            "samples": sum(n * s["config"]["batch_size"] for n, s in zip(steps, stages)),
            "projected_s": None if need is None else round(need, 1), "left_s": round(left, 1),
            "scaled": steps != nominal, "stages": []}
        log(f"{chain}: calibration rc {results.get(chain, {}).get('rc')}, {calib_steps} steps, "
            f"{'?' if rate is None else f'{rate:.1f}'} images/s; steps {steps} (nominal {nominal}), "
            f"projected {report['chains'][chain]['projected_s']} s of {left:.0f} s left")
    pack(work, out_dir, report)

    # 2. the runs: each chain's stages in order, chains side by side
    def run_chain(chain: str) -> None:
        for k, s in enumerate(chains[chain]):
            cfg = s["config"]
            limit = deadline - time.perf_counter() - 5.0
            if limit < 5:
                report["chains"][chain]["stages"].append({"source": s["source"], "skipped": "no time left"})
                log(f"{chain} stage {k + 1}: skipped, no time left")
                return
            r = run_stage(cfg, args.data_root, args.device, limit, resume=(k == 0))
            final = Path(cfg["out_dir"]) / "final.safetensors"
            r.update({"source": s["source"], "weights": weights_meta(final),
                      "images_per_s": measured_rate(Path(cfg["out_dir"]), cfg["batch_size"])})
            report["chains"][chain]["stages"].append(r)
            (Path(cfg["out_dir"]) / "stage.json").write_text(json.dumps(r, indent=2))
            log(f"{chain} stage {k + 1}: rc {r['rc']}, {r['wall_s']} s, weights {r['weights']}")
            if r["rc"] != 0 or not final.exists():
                return

    threads = [threading.Thread(target=run_chain, args=(c,)) for c in chains]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    packer_thread.join()  # a pack under way finishes before the last one starts
    report["total_s"] = round(time.perf_counter() - t_start, 1)
    with pack_lock:
        pack(work, out_dir, report)
    ok = all(st.get("rc") == 0 for c in report["chains"].values() for st in c["stages"]) and all(
        len(c["stages"]) == len(chains[name]) for name, c in report["chains"].items())
    log(f"done in {report['total_s']} s; all stages finished: {ok}; {out_dir / 'gpu_runs.tar.gz'}")
    print(json.dumps({k: {kk: v[kk] for kk in ('steps', 'samples', 'scaled')} for k, v in report["chains"].items()}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
