"""The fusion tasks, by the names the benchmark, the per-task settings of shipped weights and
``--task`` share, and :func:`detect_task`, which tells them apart from a pair (kept import-light:
the CLI reads this module to build its options; NumPy/SciPy are imported inside the functions)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

#: infrared + visible; near + far focus; two medical modalities (CT, MR, PET, SPECT)
TASKS = ("ir-vis", "multi-focus", "medical")
#: ``--task`` choices beyond :data:`TASKS`: ``auto`` = :func:`detect_task` per pair and that task's
#: settings (the default for weights that record per-task settings); ``stored`` = the weights'
#: stored settings for every pair
TASK_MODES = ("auto", "stored")
TASK_CHOICES = TASK_MODES + TASKS


@dataclass(frozen=True)
class DetectionRule:
    """The thresholds of :func:`detect_task` (docs/inputs.md, "Which task a pair is").

    Chosen on the validation pairs only (``scripts/task_detection.py``): the 221 RoadScene
    training pairs and the 20 pairs of ``ir-vis/tno40`` that are not near-duplicates of ``ir-vis/tno``
    (IR–VIS), the 21 ``medical/ct-mr-harvard`` pairs, and the trainer's 8 synthetic multi-focus
    validation pairs; each threshold lies between the classes' ranges there.
    """

    #: longer side (pixels) of the area-downsampled copy the features are computed on
    side: int = 256
    #: σ (pixels of that copy) of the Gaussian low-pass whose correlation compares the two scenes
    sigma: float = 4.0
    #: multi-focus needs a low-pass Pearson correlation at least this high (validation: synthetic
    #: multi-focus 1.000; IR–VIS at most 0.82, medical at most 0.72) …
    mf_min_corr: float = 0.97
    #: … and mean intensities at most this many grey levels (of 255) apart (multi-focus ≤ 0.1)
    mf_max_mean_diff: float = 8.0
    #: width of the border ring, as a fraction of the shorter side
    ring: float = 0.05
    #: a pixel is dark at or below this grey level (of 255) …
    dark_level: float = 16.0
    #: … and a pair is medical when both sources are dark on at least this fraction of the ring
    #: (a scanned body in air; validation: medical ≥ 0.935, IR–VIS ≤ 0.355)
    medical_min_dark_ring: float = 0.6


DEFAULT_RULE = DetectionRule()


@dataclass(frozen=True)
class TaskGuess:
    """What :func:`detect_task` decided, with the features it decided on."""

    task: str
    corr: float  # Pearson correlation of the low-passed sources
    mean_diff: float  # |mean(a) − mean(b)| in grey levels of 255
    dark_ring: float  # fraction of the border ring where both sources are dark

    def describe(self) -> str:
        return (f"low-pass correlation {self.corr:.3f}, mean difference {self.mean_diff:.1f} grey levels, "
                f"dark border in both {self.dark_ring:.2f}")

    def as_dict(self) -> dict:
        return asdict(self)


#: the downsampled copy keeps at least this many pixels across (or all, when the image has fewer)
_MIN_SHORT_SIDE = 8


def _area_downsample(x, side: int):
    """Block means (float64) with the smallest integer factor k that brings the longer side to
    ≤ ``side`` (the last incomplete blocks are dropped), k rows at a time: no full-size copy of
    a large image. k is capped at the shorter side // :data:`_MIN_SHORT_SIDE` (at least 1), so
    the copy keeps at least that many pixels across: a strip about 32:1 or more elongated (e.g.
    3000 × 10) is downsampled less instead of to nothing (it had a 0-pixel copy: NaN features)."""
    import numpy as np

    h, w = x.shape
    k = max(1, -(-max(h, w) // side))
    k = max(1, min(k, min(h, w) // _MIN_SHORT_SIDE))
    if k == 1:
        return np.asarray(x, dtype=np.float64)
    ho, wo = h // k, w // k
    out = np.empty((ho, wo))
    for i in range(ho):
        out[i] = np.asarray(x[i * k:(i + 1) * k, :wo * k], dtype=np.float64).reshape(k, wo, k).mean(axis=(0, 2))
    return out


def task_features(a, b, rule: DetectionRule = DEFAULT_RULE) -> tuple[float, float, float]:
    """(low-pass correlation, |Δmean| in grey levels, dark-ring fraction) of a gray pair.

    ``a``, ``b``: (H, W) float arrays in [0, 1] (gray, or the luminance of colour), the same size.
    The correlation is Pearson's between the two sources after area downsampling to a longer side
    of ``rule.side`` (less for a strip about 32:1 or more elongated: :func:`_area_downsample`) and a Gaussian low-pass of σ = ``rule.sigma`` (reflecting borders); it is 0
    when either low-passed source is constant. The dark ring is the border of width
    ``rule.ring`` × the shorter side on the downsampled copies; a pixel counts when both sources
    are ≤ ``rule.dark_level`` / 255 there.
    """
    import math

    import numpy as np
    from scipy import ndimage

    da, db = _area_downsample(a, rule.side), _area_downsample(b, rule.side)
    la = ndimage.gaussian_filter(da, rule.sigma, mode="reflect").ravel()
    lb = ndimage.gaussian_filter(db, rule.sigma, mode="reflect").ravel()
    # correctly rounded sums (math.fsum), not np.dot: BLAS's summation order depends on its
    # thread count, which moved the correlation in the last digits (a pair at a threshold could
    # be detected differently on another machine or OMP_NUM_THREADS)
    la, lb = la - math.fsum(la) / la.size, lb - math.fsum(lb) / lb.size
    den = math.sqrt(math.fsum(la * la) * math.fsum(lb * lb))
    corr = math.fsum(la * lb) / den if den > 1e-12 else 0.0
    mean_diff = abs(float(np.mean(a, dtype=np.float64)) - float(np.mean(b, dtype=np.float64))) * 255.0
    h, w = da.shape
    r = max(1, int(round(rule.ring * min(h, w))))
    ring = np.zeros((h, w), dtype=bool)
    ring[:r], ring[-r:], ring[:, :r], ring[:, -r:] = True, True, True, True
    t = rule.dark_level / 255.0
    dark = float(np.mean(((da <= t) & (db <= t))[ring]))
    return corr, mean_diff, dark


def detect_task(a, b, rule: DetectionRule = DEFAULT_RULE) -> TaskGuess:
    """Which of :data:`TASKS` a registered gray pair most likely is.

    1. ``multi-focus`` when the two sources show the same scene at the same brightness: the
       low-pass correlation ≥ ``rule.mf_min_corr`` and |Δmean| ≤ ``rule.mf_max_mean_diff``
       (focus changes only the fine detail, which the low-pass removes);
    2. else ``medical`` when both sources are dark on ≥ ``rule.medical_min_dark_ring`` of the
       border ring (a scanned body surrounded by air);
    3. else ``ir-vis`` (two modalities of an open scene).

    A heuristic: it knows these three tasks only, and a pair of another kind (multi-exposure,
    a night scene framed in black …) gets the nearest of them. ``--task`` overrides it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.random((64, 64))
    >>> detect_task(scene, scene).task
    'multi-focus'
    """
    corr, mean_diff, dark = task_features(a, b, rule)
    if corr >= rule.mf_min_corr and mean_diff <= rule.mf_max_mean_diff:
        task = "multi-focus"
    elif dark >= rule.medical_min_dark_ring:
        task = "medical"
    else:
        task = "ir-vis"
    return TaskGuess(task, corr, mean_diff, dark)
