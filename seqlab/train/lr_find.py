"""The learning-rate finder (Smith 2017, "Cyclical Learning Rates for Training Neural
Networks", section 3.3; fastai's `lr_find`).

Train for at most `steps` batches while the learning rate grows exponentially from `start`
to `end`, and record the loss. The loss first stays flat (too small a rate to learn), then
falls, then explodes; a good peak rate for one-cycle training sits where it falls fastest.
The recorded loss is noisy, so it is smoothed (an exponential moving average, bias-corrected
like Adam's), and the sweep stops once the smoothed loss passes `diverge` times its minimum.

The suggestion is the rate at the minimum of the smoothed loss divided by 10 (fastai's
`lr_min / 10`). The rate of steepest descent (the most negative slope against log lr, between
the first SKIP_START steps, whose average is of too few losses, and the minimum) is reported
beside it but not suggested: the moving average lags the raw loss, so its steepest point comes
early, and on the runs we checked it was 10 times too low (docs/training.md: human numbers,
3e-4 where 1.8e-3 and the default 3e-3 train far better). The model's weights are put back
afterwards; nothing is saved.
"""

from __future__ import annotations

import copy
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqlab.data.files import atomic_write

if TYPE_CHECKING:
    from seqlab.train.trainer import Trainer

SKIP_START = 10  # first steps left out of the slope: their average is of too few losses
MIN_DESCENT = 5  # points before the minimum needed for a slope worth trusting


@dataclass
class LRFinding:
    lrs: list[float]  # the head's rate at each step (lower layer groups: their multiple of it)
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    method: str  # how the suggestion was chosen: "minimum / 10"
    steepest: float | None  # the rate of steepest descent, when the descent has a slope

    def summary(self) -> str:
        low = self.smoothed.index(min(self.smoothed))
        steep = "" if self.steepest is None else f"; steepest descent at {self.steepest:.1e}"
        return (
            f"suggested --lr {self.suggestion:.1e} ({self.method} of the smoothed loss; "
            f"{len(self.lrs)} steps, lowest loss {self.smoothed[low]:.4f} at lr "
            f"{self.lrs[low]:.1e}{steep})"
        )

    def csv(self) -> str:
        buf = io.StringIO()
        buf.write("lr,loss,smoothed_loss\n")
        for lr, loss, smooth in zip(self.lrs, self.losses, self.smoothed, strict=True):
            buf.write(f"{lr:.6e},{loss:.6f},{smooth:.6f}\n")
        return buf.getvalue()

    def save(self, directory: Path) -> list[Path]:
        """lr_find.csv and lr_find.png in `directory` (which exists); their paths."""
        from seqlab.train.plot import plot_lr_find

        csv_path, png_path = directory / "lr_find.csv", directory / "lr_find.png"
        atomic_write(csv_path, self.csv())
        plot_lr_find(self, png_path)
        return [csv_path, png_path]


def lr_find(
    trainer: Trainer,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    diverge: float = 4.0,
    beta: float = 0.98,
) -> LRFinding:
    """Sweep the rate of `trainer`'s optimizer from `start` to `end` over at most `steps`
    training batches (its loader repeated as needed); its model's weights are restored."""
    if not 0 < start < end:
        raise ValueError(f"the sweep needs 0 < start < end, got {start} and {end}")
    model = trainer.model
    saved = copy.deepcopy(model.state_dict())
    # lower layer groups keep their ratio to the head's rate (discriminative learning rates)
    top = max(g.get("max_lr", g["lr"]) for g in trainer.opt.param_groups)
    ratios = [g.get("max_lr", g["lr"]) / top for g in trainer.opt.param_groups]
    lrs, losses, smoothed = [], [], []
    avg, best = 0.0, math.inf
    for cb in trainer.callbacks:  # the first epoch's state (e.g. gradual unfreezing)
        cb(trainer, "epoch_start", 0)
    try:
        for i, batch in enumerate(_batches(trainer, steps)):
            lr = start * (end / start) ** (i / max(steps - 1, 1))
            for group, ratio in zip(trainer.opt.param_groups, ratios, strict=True):
                group["lr"] = lr * ratio
            loss, _ = trainer._train_step(batch)
            avg = beta * avg + (1 - beta) * loss
            smooth = avg / (1 - beta ** (i + 1))
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(smooth)
            best = min(best, smooth)
            if not math.isfinite(smooth) or smooth > diverge * best:
                break
    finally:
        model.load_state_dict(saved)
    if not lrs:
        raise ValueError("the training data has no batches to sweep the learning rate on")
    suggestion, method = suggest(lrs, smoothed)
    return LRFinding(lrs, losses, smoothed, suggestion, method, steepest_descent(lrs, smoothed))


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float, str]:
    """(rate, how it was chosen): the rate at the smoothed loss's minimum, over 10."""
    finite = [s if math.isfinite(s) else math.inf for s in smoothed]
    return lrs[int(np.argmin(finite))] / 10, "minimum / 10"


def steepest_descent(lrs: list[float], smoothed: list[float]) -> float | None:
    """The rate where the smoothed loss falls fastest before its minimum, after the first
    SKIP_START steps; None when fewer than MIN_DESCENT points lie between."""
    finite = [s if math.isfinite(s) else math.inf for s in smoothed]
    low = int(np.argmin(finite))
    if low - SKIP_START < MIN_DESCENT:
        return None
    stretch = slice(SKIP_START, low + 1)
    slope = np.gradient(np.array(finite[stretch]), np.log10(lrs[stretch]))
    return float(lrs[SKIP_START + int(np.argmin(slope))])


def _batches(trainer: Trainer, steps: int):
    """Up to `steps` training batches on the trainer's device, epoch after epoch."""
    from seqlab.train.trainer import _as_batch, _set_epoch

    model, dl = trainer.model, trainer.train_dl
    model.train()
    done, epoch = 0, 0
    while done < steps:
        model.reset()
        _set_epoch(dl, epoch)
        empty = True
        for raw in dl:
            empty = False
            yield _as_batch(raw).to(trainer.device)
            done += 1
            if done == steps:
                return
        if empty:
            return
        epoch += 1
