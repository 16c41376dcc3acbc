"""The training conveniences every task's settings class declares the same way: early
stopping, mixed precision, TensorBoard. One declaration each, so `seqlab pretrain` and every
`seqlab finetune TASK` (and their Python callers) get the same option, help and check."""

from __future__ import annotations

from typing import Any

from seqlab.settings import SettingError, setting
from seqlab.train import tensorboard as tb


def patience() -> Any:
    return setting(
        None,
        "Early stopping: end the run when the epoch table's best-by column (valid loss, or the "
        "task's headline metric) has not improved for this many epochs; the best checkpoint "
        "is kept. [default: off]",
        min=1,
    )


def max_minutes() -> Any:
    return setting(
        None,
        "A time budget in minutes of wall-clock time: the run ends after the epoch past which "
        "another one (as long as the last) would not fit; the best checkpoint is kept, and "
        "`--resume RUN` trains on. [default: none]",
        min=0,
        min_open=True,
    )


def amp() -> Any:
    return setting(
        False,
        "Mixed precision on CUDA: bfloat16 autocast (no loss scaling needed). On a CPU it does "
        "nothing but say so.",
    )


def tensorboard() -> Any:
    return setting(
        False,
        "Log the loss and learning rate per step and the epoch table per epoch for "
        "TensorBoard, in RUN/tensorboard (needs `pip install 'seqlab[tensorboard]'`).",
    )


def check(s: Any) -> None:
    """A missing optional package is a setting error now, not a crash after the data is read."""
    if s.tensorboard and not tb.available():
        raise SettingError("tensorboard", tb.MISSING)
