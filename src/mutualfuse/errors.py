"""User-facing errors.

Every problem with a user's input (file missing, unreadable, wrong size or bit depth, corrupt
weights, bad parameter) is raised as :class:`FuseError` with a one-line message that names the
file or option and the problem. The CLI prints it as ``mutualfuse: error: <message>`` and exits
with status 2, without a traceback.
"""
from __future__ import annotations


class FuseError(Exception):
    """A one-line, user-facing error (bad input file, bad option, bad weights)."""

    exit_code = 2

    def __init__(self, message: str):
        message = " ".join(str(message).split())  # always one line
        super().__init__(message)


class InputError(FuseError, ValueError):
    """An input image or pair is unusable."""


class WeightsError(FuseError):
    """A weights file is missing, corrupt, tampered with or does not fit the model."""


class ParameterError(FuseError, ValueError):
    """A method, metric or option was given a bad value."""


class PolicyRefusalError(InputError):
    """An input that an intensity normalisation policy cannot read; ``normalize`` is that policy's
    mode (``"full"``: a float image outside [0, 1], which ``full`` does not rescale). Where the mode
    was not the user's choice but the policy the weights' training recorded, ``fuse`` and the web
    page add where it came from (:func:`mutualfuse.cli.fuse.policy_origin`), deciding by this
    attribute, not by the message's words."""

    def __init__(self, message: str, normalize: str):
        super().__init__(message)
        self.normalize = str(normalize)

    def __reduce__(self):  # picklable with both arguments (as ImageTooSmallError)
        return (type(self), (str(self), self.normalize))


class ImageTooSmallError(InputError):
    """An image is smaller than a metric (or other computation) needs; ``min_side`` is the
    smallest side length in pixels that works. ``mutualfuse evaluate`` leaves such a metric's
    value empty for that image (with a note) instead of stopping."""

    def __init__(self, message: str, min_side: int):
        super().__init__(message)
        self.min_side = int(min_side)

    def __reduce__(self):  # picklable with both arguments (evaluate -j runs metrics in worker processes)
        return (type(self), (str(self), self.min_side))


class MetricUndefinedError(InputError):
    """A metric is undefined for these images: its reference code fails on them (Liu et al.'s
    ``normalize1`` divides 0 by 0 on a constant non-zero image, so Q_MI, Q_TE and Q_NCIE have no
    value). ``mutualfuse evaluate`` leaves such a metric's value empty for that image (with a
    note) instead of stopping, as for :class:`ImageTooSmallError`."""
