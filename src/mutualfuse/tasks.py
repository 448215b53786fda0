"""The fusion tasks, by the names the benchmark, the per-task settings of shipped weights and
``--task`` share (kept import-light: the CLI reads it to build its options)."""
from __future__ import annotations

#: infrared + visible; near + far focus; two medical modalities (CT, MR, PET, SPECT)
TASKS = ("ir-vis", "multi-focus", "medical")
