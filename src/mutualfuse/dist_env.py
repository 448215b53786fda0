"""The process's place in a multi-process run, from torchrun's environment variables.

``fuse-dir`` and ``train`` run as one process each of ``torchrun --nproc_per_node N``; both read
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` here, so that a bad or half-set environment (a shell
left with ``WORLD_SIZE`` from a SLURM job, no ``MASTER_ADDR``) is one line before any work
instead of torch.distributed's ``ValueError`` when the group starts."""
from __future__ import annotations

import os

from .errors import ParameterError


def dist_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's environment; ``(0, 1, 0)`` otherwise.

    Raises :class:`~mutualfuse.errors.ParameterError` for values that are not integers, a rank
    outside the world, or a world of several processes without the rendezvous address that
    torchrun sets (``MASTER_ADDR`` and ``MASTER_PORT``)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ParameterError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (as torchrun sets them)") from None
    if world < 1 or not 0 <= rank < world:
        raise ParameterError(f"RANK={rank} is outside WORLD_SIZE={world}")
    if world > 1:
        missing = [v for v in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(v)]
        if missing:
            raise ParameterError(f"WORLD_SIZE={world} is set but {' and '.join(missing)} "
                                 f"{'is' if len(missing) == 1 else 'are'} not: start the processes with "
                                 "torchrun --nproc_per_node N (it sets them all), or unset WORLD_SIZE and RANK "
                                 "(left from another job?) for one process")
    return rank, world, local
