"""Optional TensorBoard logging (`--tensorboard`): a Trainer callback.

Per step: the training loss and the learning rate (of the top layer group, the head's);
per epoch: every column of the epoch table. Written under RUN/tensorboard, read with
`tensorboard --logdir RUN/tensorboard`. The `tensorboard` package is an optional extra
(`pip install 'seqlab[tensorboard]'`), imported only when a run asks for it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqlab.train.events import TrainerView

MISSING = "needs the tensorboard package: pip install 'seqlab[tensorboard]'"


def available() -> bool:
    """Whether torch.utils.tensorboard can write (it needs the `tensorboard` package)."""
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoard:
    """Writes a run's scalars as the Trainer calls it back (rank 0 only: the Trainer adds it
    there)."""

    def __init__(self, log_dir: Path):
        if not available():
            raise ValueError(f"tensorboard {MISSING}")
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(log_dir))

    def __call__(self, trainer: TrainerView, event: str, value: int) -> None:
        if event == "step_end":
            # batches trained so far over the whole run: a resumed run continues the curve
            step = sum(trainer.epoch_lens[: trainer.epoch]) + value + 1
            self.writer.add_scalar("train/loss", trainer.batch_losses[-1], step)
            self.writer.add_scalar("train/lr", trainer.opt.param_groups[-1]["lr"], step)
        elif event == "epoch_end":
            row = trainer.history[-1]
            for name, v in row.items():
                if name != "epoch":
                    self.writer.add_scalar(f"epoch/{name}", v, int(row["epoch"]) + 1)
            self.writer.flush()
