"""What this CPU offers for bfloat16: its instruction-set flags, read once from ``/proc/cpuinfo``.

Training (``cpu_amp: auto``) and half-precision inference (``dtype="bfloat16"``) ask here
whether bfloat16 will be faster than float32. The answers differ: a training step gains
from AVX512-BF16 already (docs/training.md), inference through oneDNN only from AMX
(``benchmarks/bench_half.py``; docs/inputs.md, "bfloat16 on CPU").
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The ``flags`` of the first processor in ``/proc/cpuinfo`` (empty where it cannot be
    read, e.g. off Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic instructions (x86 AVX512-BF16 or AMX-BF16)."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_has_amx_bf16() -> bool:
    """Whether oneDNN can use AMX-BF16 here: the CPU has it and ``ONEDNN_MAX_CPU_ISA`` (oneDNN's
    own limit, also used to emulate older CPUs) does not rule it out."""
    if "amx_bf16" not in cpu_flags():
        return False
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return isa in ("", "ALL", "DEFAULT") or "AMX" in isa
