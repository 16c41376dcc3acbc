"""How big a StatefulEncoder is, and whether it fits this machine: known from its config alone.

Both the encoder (refusing a config before allocating it) and the store's checks (bounding a
checkpoint's config by the weights its file holds) ask these, so they live below both.
"""

from __future__ import annotations

import os

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per recurrent cell


def n_params(config) -> int:
    """Parameters of a StatefulEncoder built from `config`, without building it (and in
    constant time: `layers` may be absurd)."""
    h, g, e = config.hidden, GATES.get(config.cell, 4), config.emb_dim
    first = g * h * (e + h + 2)
    others = (config.layers - 1) * g * h * (2 * h + 2)
    return config.vocab_size * e + first + others + (4 * h + 1 if config.bn else 0)


def memory_bytes() -> int | None:
    """Physical memory of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_problem(n: int, bytes_per_param: int = 4) -> str | None:
    """Why `n` float32 parameters cannot be trained here: their weights alone would take more
    than half of the machine's memory (training needs ~4x that: weights, gradients, Adam's
    two moments). None when they fit."""
    total = memory_bytes()
    need = n * bytes_per_param
    if total is None or need <= total // 2:
        return None
    return (
        f"makes a model of {n:,} parameters ({need / 2**30:,.1f} GiB of weights), more than "
        f"half of this machine's memory ({total / 2**30:,.1f} GiB); make it smaller"
    )
