"""Trainer: one-cycle AdamW, gradient clipping, evaluation, checkpoints, resume.

The trainer knows nothing about the task: the model's head gives the loss and the
metrics. Nor does it print: its RunLog (seqlab/train/runlog.py) shows progress and the epoch
table and writes metrics.csv and curves.png. A run directory holds
  config.json      everything needed to rebuild model and data (written by the caller)
  metrics.csv      one row per epoch: epoch,train_loss,valid_loss,<head metrics>,time
  curves.png       training curves
  best.*, last.*   checkpoints (safetensors + JSON); train_state.* carries the optimizer,
                   schedule, RNG and position, so `resume` continues exactly.
  checkpoints.json the commit: an epoch's best, last and train_state are saved as one unit
Ctrl-C and SIGTERM stop the loop between steps (seqlab/train/signals.py), after `last` is saved.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sized
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from seqlab.data.batches import Batch
from seqlab.nn.model import SeqModel
from seqlab.store.checkpoint import load_model_tensors, load_tensors, model_part, save_checkpoints
from seqlab.store.errors import CheckpointError
from seqlab.train import distributed
from seqlab.train.events import Callback
from seqlab.train.runlog import RunLog
from seqlab.train.signals import StopRequest

if TYPE_CHECKING:
    from rich.console import Console


# An upper bound that no real run reaches, so an absurd value (an edited config.json) is
# refused at once instead of planning a schedule of 10**12 epochs.
MAX_EPOCHS = 100_000


ESTIMATE_AFTER = 20  # batches timed before the run's length is estimated
ESTIMATE_FROM_S = 30.0  # a run estimated shorter than this is not worth a line


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


@dataclass
class TrainConfig:
    epochs: int = 10
    lr: float = 3e-3
    wd: float = 0.01
    pct_start: float = 0.25
    clip: float | None = 0.5
    seed: int = 42
    device: str = "auto"
    patience: int | None = None  # early stopping: epochs without improvement (None: off)
    max_minutes: float | None = None  # a wall-clock budget, checked at epoch boundaries
    amp: bool = False  # bfloat16 autocast on CUDA (a no-op, with a note, elsewhere)
    tensorboard: bool = False  # per-step loss and lr, per-epoch metrics, in RUN/tensorboard

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be in [1, {MAX_EPOCHS}], got {self.epochs}")
        if self.clip is not None and not 0 <= self.clip < float("inf"):
            raise ValueError(f"clip must be at least 0 (0 or None: off), got {self.clip}")
        if not 0 < self.pct_start < 1:
            raise ValueError(f"pct_start must be in (0, 1), got {self.pct_start}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be positive, got {self.max_minutes}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1, got {self.patience}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.wd < 0:
            raise ValueError(f"wd must be >= 0, got {self.wd}")


class Interrupted(Exception):
    """Training stopped by Ctrl-C (or SIGTERM) after `last` was saved."""

    def __init__(self, run_dir: Path | None):
        self.run_dir = run_dir
        where = f"; continue with --resume {run_dir}" if run_dir else ""
        super().__init__(f"interrupted{' - saved last checkpoint' if run_dir else ''}{where}")


def resolve_device(device: str | torch.device) -> torch.device:
    """A device name ("auto": a GPU when there is one, else the CPU; "cpu", "cuda",
    "cuda:1", ...) or a torch.device, as a torch.device. The one place device names are
    resolved, so a CUDA device without a GPU is the same clear error everywhere, and
    before any work, not a crash at the first batch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r}: no CUDA GPU is available here; use cpu")
    return resolved


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)


# Where `amp` autocasts. bfloat16 needs no loss scaling (its exponent is float32's); on a CPU
# it is slower than float32 for these small recurrent models, so amp is for CUDA only.
AMP_DEVICES = ("cuda",)


def autocast(device: torch.device, amp: bool) -> AbstractContextManager:
    """bfloat16 autocast when `amp` asks for it on a device that has it; else nothing."""
    if amp and device.type in AMP_DEVICES:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


class Trainer:
    def __init__(
        self,
        model: SeqModel,
        train_dl: Iterable,
        valid_dl: Iterable,
        config: TrainConfig,
        run_dir: Path | None = None,
        meta: dict[str, Any] | None = None,
        console: Console | None = None,
        lr_mults: list[float] | None = None,
        callbacks: Iterable[Callback] = (),
        best_by: str = "valid_loss",
        log: RunLog | None = None,
    ):
        """`log` shows and writes the run's progress (default: RunLog(console), which
        prints to `console`, else stdout); pass `RunLog(quiet=True)` to print nothing."""
        if log is not None and console is not None:
            raise ValueError("give the Trainer a console or a log, not both")
        self.config = config
        # the history column that picks `best`: a loss is lowest-best, a metric highest-best
        self.best_by = best_by
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        # under torchrun: DistributedDataParallel, which all-reduces gradients in backward
        self.forward = distributed.wrap(self.model)
        self.train_dl, self.valid_dl = train_dl, valid_dl
        self.run_dir = Path(run_dir) if run_dir else None
        self.meta = meta or {}
        self.log = log if log is not None else RunLog(console)
        self.callbacks = list(callbacks)
        self.is_main = _rank() == 0
        if config.tensorboard and self.run_dir is not None and self.is_main:
            from seqlab.train.tensorboard import TensorBoard

            self.callbacks.append(TensorBoard(self.run_dir / "tensorboard"))
        if config.amp and self.device.type not in AMP_DEVICES and self.is_main:
            self.log.note(f"note: amp autocasts on CUDA only; training in float32 on {self.device}")
        self.history: list[dict[str, float]] = []
        self.batch_losses: list[float] = []
        self.epoch, self.step = 0, 0  # position: next batch to train
        self._partial = (0.0, 0)  # train loss sum and count of the current epoch
        groups = model.layer_groups()
        mults = lr_mults or [1.0] * len(groups)
        if len(mults) != len(groups):
            raise ValueError(f"lr_mults has {len(mults)} entries for {len(groups)} layer groups")
        self.opt = torch.optim.AdamW(
            [{"params": g, "lr": config.lr * m} for g, m in zip(groups, mults, strict=True) if g],
            lr=config.lr,
            weight_decay=config.wd,
            betas=(0.9, 0.99),
        )
        self.max_lrs = [g["lr"] for g in self.opt.param_groups]
        self.epoch_lens = [self._epoch_len(e) for e in range(config.epochs)]
        # Epochs per one-cycle schedule: one cycle, unless a resumed run was given more
        # epochs (`load_last`): those are a new cycle, as a second fit_one_cycle is in fastai.
        self.cycles = [config.epochs]
        self.sched = self._one_cycle(0)
        self._stop = StopRequest()  # Ctrl-C / SIGTERM while fitting: stop between steps

    # -- the loop -----------------------------------------------------------------------

    def fit(self) -> list[dict[str, float]]:
        if self.run_dir and self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._stop:
            return self._fit()

    def _fit(self) -> list[dict[str, float]]:
        self._started, self._estimated = time.perf_counter(), False
        for epoch in range(self.epoch, self.config.epochs):
            if self.step == 0 and epoch in self._cycle_starts()[1:]:
                self.sched = self._one_cycle(epoch)
            if self._stop_early() or self._out_of_time():
                break
            self._emit("epoch_start", epoch)
            start = time.perf_counter()
            train_loss = self._train_epoch(epoch)
            metrics = self.evaluate()
            row = {"epoch": epoch, "train_loss": train_loss, **metrics}
            row["time"] = time.perf_counter() - start
            self.history.append(row)
            self.epoch, self.step, self._partial = epoch + 1, 0, (0.0, 0)
            self.log.epoch_end(self, row)
            self._save_epoch(row)
            if self._stop_requested():  # a signal came during validation's end or the save
                self.log.interrupted(self)
                raise Interrupted(self.run_dir if self.is_main else None)
            self._emit("epoch_end", epoch)
        return self.history

    def _train_epoch(self, epoch: int) -> float:
        model, dl = self.model, self.train_dl
        model.train()
        skip = self.step
        if skip == 0:  # a run resumed inside an epoch keeps the state it saved
            model.reset()
        _set_epoch(dl, epoch)
        total, count = self._partial
        started = time.perf_counter()
        with self.log.epoch_progress(self, epoch, self.epoch_lens[epoch], skip) as advance:
            for i, raw in enumerate(dl):
                if i < skip:  # resuming inside an epoch: these batches were trained on
                    continue
                if self._stop_requested():  # batch i is not trained: resume starts there
                    self._interrupt(epoch, i, (total, count))
                try:
                    loss, n = self._train_step(_as_batch(raw).to(self.device))
                except KeyboardInterrupt:
                    if self._stop.requested:  # a second signal: stop now, the step may be torn
                        raise
                    self._interrupt(epoch, i, (total, count))
                total, count = total + loss * n, count + n
                self.batch_losses.append(loss)
                self.step = i + 1
                advance(loss)
                if not self._estimated and i + 1 - skip == ESTIMATE_AFTER:
                    self._estimate(epoch, (time.perf_counter() - started) / ESTIMATE_AFTER)
                try:
                    self._emit("step_end", i)
                except KeyboardInterrupt:
                    self._interrupt(epoch, i + 1, (total, count))
        self._partial = (total, count)  # what an interrupt during validation saves
        all_total, all_count = distributed.all_sum(total, count)  # every rank's rows
        return all_total / max(all_count, 1)

    def _train_step(self, batch: Batch) -> tuple[float, int]:
        with autocast(self.device, self.config.amp):
            out = self.forward(batch.x, batch.mask)
            loss = self.model.head.loss(out, batch)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.opt.step()
        if self.sched.last_epoch < self.sched.total_steps - 1:
            self.sched.step()
        return loss.item(), self.model.head.n_targets(batch)

    @torch.no_grad()
    def evaluate(self, dl: Iterable | None = None) -> dict[str, float]:
        """valid_loss and the head's metrics; the state starts from zero."""
        model, head = self.model, self.model.head
        model.eval()
        model.reset()
        total, count, steps = 0.0, 0, []
        for raw in dl if dl is not None else self.valid_dl:
            # fit's validation, one process (ranks may differ in batches; they stop after
            # the save): resume evaluates again
            if distributed.world_size() == 1 and self._stop.requested:
                self._interrupt(self.epoch, self.step, self._partial)
            batch = _as_batch(raw).to(self.device)
            with autocast(self.device, self.config.amp):
                out = model(batch.x, batch.mask)
                loss = head.loss(out, batch)
            n = head.n_targets(batch)
            total += loss.item() * n
            count += n
            steps.append(head.eval_step(out, batch))
        all_total, all_count = distributed.all_sum(total, count)  # each rank has its own rows
        steps = distributed.all_gather(steps)
        valid_loss = all_total / max(all_count, 1)
        return {"valid_loss": valid_loss, **head.reduce(steps, valid_loss)}

    def _stop_early(self) -> bool:
        """Early stopping: `patience` epochs in a row have not bettered the best_by column."""
        patience = self.config.patience
        if patience is None or not self.history:
            return False
        stale = epochs_since_best(self.history, self.best_by)
        if stale < patience:
            return False
        if self.is_main:
            self.log.stopped_early(self, stale)
        return True

    def _estimate(self, epoch: int, per_batch: float) -> None:
        """How long the run will take, from its first timed batches (before a user waits)."""
        self._estimated = True
        left = self.epoch_lens[epoch] - self.step
        left += sum(self.epoch_lens[e] for e in range(epoch + 1, self.config.epochs))
        if self.is_main and per_batch * left >= ESTIMATE_FROM_S:
            self.log.note(
                f"estimated: {_minutes(per_batch * self.epoch_lens[epoch])} per epoch, "
                f"{_minutes(per_batch * left)} for the {self.config.epochs - epoch} epoch(s) to "
                f"go (from the first {ESTIMATE_AFTER} batches; validation not counted)"
            )

    def _out_of_time(self) -> bool:
        """--max-minutes: another epoch as long as the last would end past the budget."""
        budget = self.config.max_minutes
        if budget is None or not self.history:
            return False
        spent = time.perf_counter() - self._started
        over = spent + self.history[-1]["time"] > budget * 60
        if distributed.world_size() > 1:  # every rank stops together (rank clocks differ)
            over = distributed.all_sum(float(over))[0] > 0
        if not over:
            return False
        if self.is_main:
            self.log.note(
                f"--max-minutes {budget:g}: stopped after {self.epoch} of {self.config.epochs} "
                f"epochs ({_minutes(spent)} spent; another would take "
                f"{_minutes(self.history[-1]['time'])}); best is the best epoch's checkpoint, "
                "`--resume` trains on"
            )
        return True

    def _emit(self, event: str, value: int) -> None:
        for cb in self.callbacks:
            cb(self, event, value)

    def _stop_requested(self) -> bool:
        """A signal asked to stop (on any rank: under torchrun every rank stops together)."""
        if distributed.world_size() > 1:
            return distributed.all_sum(float(self._stop.requested))[0] > 0
        return self._stop.requested

    def _interrupt(self, epoch: int, step: int, partial: tuple[float, int]) -> None:
        self.epoch, self.step, self._partial = epoch, step, partial
        if self.run_dir and self.is_main:
            self.save_last()
        self.log.interrupted(self)
        raise Interrupted(self.run_dir if self.is_main else None)

    # -- checkpoints ------------------------------------------------------------------------

    def _save_epoch(self, row: dict[str, float]) -> None:
        if not (self.run_dir and self.is_main):
            return
        best = (
            {"best": model_part(self.model, self._checkpoint_meta())} if self._is_best(row) else {}
        )
        self.save_last(**best)  # best, last and train_state: one commit

    def _is_best(self, row: dict[str, float]) -> bool:
        key = self.best_by
        if key not in row:
            raise ValueError(f"best_by={key!r} is not a column of the epoch table: {list(row)}")
        values = [r[key] for r in self.history]
        return row[key] <= min(values) if key.endswith("loss") else row[key] >= max(values)

    def _checkpoint_meta(self) -> dict[str, Any]:
        return {
            **self.meta,
            "epoch": self.epoch,
            "metrics": self.history[-1] if self.history else {},
        }

    def save_last(self, **also: Any) -> None:
        """Weights plus everything needed to continue: optimizer, schedule, RNG, position;
        committed as one unit with the checkpoints in `also` (NAME=(tensors, meta))."""
        assert self.run_dir is not None
        tensors = {f"opt.{k}": v for k, v in _flatten_optimizer(self.opt.state_dict()).items()}
        tensors["rng.torch"] = torch.get_rng_state()
        tensors.update({f"hidden.{k}": v for k, v in self.model.encoder.get_state().items()})
        state = {
            "epoch": self.epoch,
            "step": self.step,
            "partial_loss": list(self._partial),
            "history": self.history,
            "batch_losses": self.batch_losses,
            "param_groups": self.opt.state_dict()["param_groups"],
            "scheduler": self.sched.state_dict(),
            "cycles": self.cycles,
            "train_config": asdict(self.config),
        }
        parts = {**also, "last": model_part(self.model, self._checkpoint_meta())}
        save_checkpoints(self.run_dir, {**parts, "train_state": (tensors, state)})

    def load_last(self, run_dir: Path) -> None:
        """Continue the run in `run_dir` from where its `last` checkpoint stopped."""
        run_dir = Path(run_dir)
        weights, meta = load_tensors(run_dir / "last")
        load_model_tensors(self.model, weights, meta.get("aliases", {}))
        tensors, state = load_tensors(run_dir / "train_state")
        if meta.get("generation") != state.get("generation"):  # runs before manifests: both None
            raise CheckpointError(
                f"{run_dir}: last.json and train_state.json are from different saves; "
                "this run cannot be continued exactly"
            )
        self.epoch, self.step = state["epoch"], state["step"]
        self.cycles = extend_cycles(
            state.get("cycles", [state["train_config"]["epochs"]]), self.config.epochs
        )
        start = max(c for c in self._cycle_starts() if c <= self.epoch)
        self.sched = self._one_cycle(start)  # before the optimizer's lr is loaded: it sets lr
        self.opt.load_state_dict(
            {"state": _unflatten_optimizer(tensors), "param_groups": state["param_groups"]}
        )
        if not (self.step == 0 and self.epoch == start and start > 0):  # else fit starts it
            self.sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(tensors["rng.torch"])
        hidden = {
            k[len("hidden.") :]: v.to(self.device)
            for k, v in tensors.items()
            if k.startswith("hidden.")
        }
        if distributed.world_size() == 1:  # rank 0 saved only its own rows' state
            self.model.encoder.set_state(hidden)
        self._partial = (state["partial_loss"][0], int(state["partial_loss"][1]))
        self.history, self.batch_losses = state["history"], state["batch_losses"]

    def _cycle_starts(self) -> list[int]:
        """The first epoch of each one-cycle schedule."""
        return [sum(self.cycles[:k]) for k in range(len(self.cycles))]

    def _one_cycle(self, start: int) -> torch.optim.lr_scheduler.OneCycleLR:
        """The one-cycle schedule of the cycle that begins at epoch `start`."""
        length = self.cycles[self._cycle_starts().index(start)]
        total = sum(self.epoch_lens[start : start + length])
        pct_start = self.config.pct_start
        if abs(pct_start * total - 1) < 1e-9:
            # torch's OneCycleLR divides by zero when warm-up ends exactly at step 0 (e.g. 4
            # steps at 0.25, a small fine-tuning set): warm up half a step longer.
            pct_start = min(1.5 / total, 1.0)
        return torch.optim.lr_scheduler.OneCycleLR(
            self.opt, max_lr=self.max_lrs, total_steps=total, pct_start=pct_start
        )

    def _epoch_len(self, epoch: int) -> int:
        _set_epoch(self.train_dl, epoch)
        if not isinstance(self.train_dl, Sized):
            raise TypeError("the training loader needs a length (for the one-cycle schedule)")
        return len(self.train_dl)


def extend_cycles(cycles: list[int], epochs: int) -> list[int]:
    """The one-cycle schedules of a run continued to `epochs` epochs in all: the run's own,
    and the epochs beyond them as one new cycle (warm-up and annealing again)."""
    done = sum(cycles)
    if epochs < done:
        raise ValueError(
            f"epochs {epochs}: the run has {done} epochs; a resumed run trains on, give "
            f"more than {done} or leave epochs as they are"
        )
    return [*cycles, epochs - done] if epochs > done else list(cycles)


def epochs_since_best(history: list[dict[str, float]], key: str) -> int:
    """Epochs since `key` was last strictly bettered (a loss lowest-best, a metric highest-best)."""
    values = [row[key] for row in history]
    best = min(values) if key.endswith("loss") else max(values)
    return len(values) - 1 - values.index(best)


def _as_batch(raw) -> Batch:
    return raw if isinstance(raw, Batch) else Batch(*raw)


def _set_epoch(dl, epoch: int) -> None:
    if hasattr(dl, "set_epoch"):
        dl.set_epoch(epoch)


def _rank() -> int:
    dist = torch.distributed
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _flatten_optimizer(sd: dict) -> dict[str, Tensor]:
    out = {}
    for idx, param_state in sd["state"].items():
        for key, value in param_state.items():
            out[f"{idx}.{key}"] = value if isinstance(value, Tensor) else torch.tensor(value)
    return out


def _unflatten_optimizer(tensors: dict[str, Tensor]) -> dict[int, dict[str, Tensor]]:
    state: dict[int, dict[str, Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            idx, key = name[len("opt.") :].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    return state
