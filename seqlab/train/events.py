"""What the Trainer's listeners see: the protocol between the loop and its loggers.

The Trainer calls its RunLog's hooks and its callbacks (TensorBoard, a user's own) with
itself as the first argument. They read the run's progress through `TrainerView`, the few
attributes below, and never import the Trainer: the loop sits above its loggers, not beside.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class Schedule(Protocol):
    """The parts of a TrainConfig a logger reads."""

    epochs: int
    patience: int | None


class TrainerView(Protocol):
    """A training run as its loggers see it, read-only."""

    is_main: bool  # rank 0 (the only rank that shows or writes anything)
    run_dir: Path | None
    best_by: str  # the history column that picks `best`
    epoch: int
    epoch_lens: list[int]  # batches per epoch
    history: list[dict[str, float]]  # the epoch table, a row per finished epoch
    batch_losses: list[float]
    opt: Any  # the torch optimizer (its param_groups hold the current learning rates)

    @property
    def config(self) -> Schedule:  # read-only, so that a TrainConfig is one
        ...


# A callback: called with the trainer, an event ("batch_end", "epoch_end", ...) and a value
# (the batch index or the epoch).
Callback = Callable[[TrainerView, str, int], None]
