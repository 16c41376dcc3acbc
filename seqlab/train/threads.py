"""How many CPU threads torch uses: `--threads N` on every training and predicting command,
or the environment variable SEQLAB_THREADS (the option wins), at most `PER_CORE` per core.

Without either, torch's own default stays (one thread per core). On a machine that other
work keeps busy, fewer threads can be much faster: torch's threads spin while they wait for
each other, so two threads on two busy cores fight the other work for both (docs/scale.md
has a measurement).
"""

from __future__ import annotations

import os

import torch

ENV = "SEQLAB_THREADS"
# More threads than cores only adds spinning; far more makes torch's OpenMP pool fail to map
# its stacks (100,000 threads crashed the process). A few per core leaves room for
# hyper-threads and a cpu_count that under-reports, and refuses what is plainly a typo.
PER_CORE = 4


def max_threads() -> int:
    """The most threads seqlab lets torch use on this machine."""
    return PER_CORE * (os.cpu_count() or 1)


def check_threads(n: int, source: str) -> int:
    """`n` itself, or a ValueError naming `source` (the option or variable it came from) when it
    is below 1 or above `max_threads()`."""
    if n < 1:
        raise ValueError(f"{source}: give a number of threads, at least 1")
    if n > max_threads():
        raise ValueError(
            f"{source}: at most {max_threads()} threads ({PER_CORE} per core; this machine has "
            f"{os.cpu_count() or 1} cores); more only slow torch down"
        )
    return n


def threads_from_env() -> int | None:
    """SEQLAB_THREADS as a count, None when unset; a ValueError naming it when not a count."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{ENV}={raw!r}: give a number of threads, at least 1")
    return check_threads(int(raw), f"{ENV}={raw}")


def set_threads(n: int | None = None) -> int:
    """Use `n` threads (else SEQLAB_THREADS, else torch's default); returns the count in use."""
    n = check_threads(n, f"--threads {n}") if n is not None else threads_from_env()
    if n is not None:
        torch.set_num_threads(n)
        try:  # allowed only before torch's first parallel work; later the old count stays
            torch.set_num_interop_threads(n)
        except RuntimeError:
            pass
    return torch.get_num_threads()
