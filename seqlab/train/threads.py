"""How many CPU threads torch uses: `--threads N` on every training and predicting command,
or the environment variable SEQLAB_THREADS (the option wins).

Without either, torch's own default stays (one thread per core). On a machine that other
work keeps busy, fewer threads can be much faster: torch's threads spin while they wait for
each other, so two threads on two busy cores fight the other work for both (docs/scale.md
has a measurement).
"""

from __future__ import annotations

import os

import torch

ENV = "SEQLAB_THREADS"


def threads_from_env() -> int | None:
    """SEQLAB_THREADS as a count, None when unset; a ValueError naming it when not a count."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{ENV}={raw!r}: give a number of threads, at least 1")
    return int(raw)


def set_threads(n: int | None = None) -> int:
    """Use `n` threads (else SEQLAB_THREADS, else torch's default); returns the count in use."""
    n = n if n is not None else threads_from_env()
    if n is not None:
        torch.set_num_threads(n)
        try:  # allowed only before torch's first parallel work; later the old count stays
            torch.set_num_interop_threads(n)
        except RuntimeError:
            pass
    return torch.get_num_threads()
