"""RunLog: what a training run shows and writes besides its checkpoints.

The Trainer never prints: at each point of its loop it calls a hook of its RunLog. The
default one shows and writes what the CLI always has:
  - a progress bar per epoch (on a terminal, on rank 0 only; gone when the epoch ends), or
    off a terminal a progress line on stderr every PROGRESS_EVERY_S seconds of an epoch,
  - the fastai-style epoch table on the console (stdout), a row as each epoch ends,
  - metrics.csv and curves.png in the run directory (rank 0 only).
`RunLog(quiet=True)` shows nothing and still writes the files (for use from Python); a
subclass can send the rows anywhere else.

rich and matplotlib are imported only when something is shown or drawn, so importing the
trainer costs neither.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from seqlab.data.files import atomic_write
from seqlab.train.plot import plot_curves

if TYPE_CHECKING:
    from rich.console import Console

    from seqlab.train.events import TrainerView

# The PNG costs a good part of a second; on short epochs it is drawn every so often
# and at the end (and on Ctrl-C), not after every epoch.
PLOT_EVERY_S = 30.0

# Off a terminal (a log, a pipe) an epoch prints a progress line this often, not a bar.
PROGRESS_EVERY_S = 10.0

Advance = Callable[[float], None]  # one batch trained, with its loss


def default_run_dir(name: str) -> Path:
    """runs/NAME-YYYYmmdd-HHMMSS: where a run goes when no directory is given (CLI and Python)."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunLog:
    """The default: progress bar, epoch table, metrics.csv, curves.png. One per run."""

    def __init__(self, console: Console | None = None, quiet: bool = False):
        self.quiet = quiet
        self._console = console
        self._shown = 0  # epoch-table rows printed
        self._plotted_at = time.monotonic()

    @property
    def console(self) -> Console:
        """Where the table and the bar go: stdout unless a console was given."""
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    # -- hooks the Trainer calls ------------------------------------------------------------

    def epoch_progress(
        self, trainer: TrainerView, epoch: int, total: int, done: int
    ) -> AbstractContextManager[Advance]:
        """A context around one training epoch of `total` batches, `done` of them already
        trained (a resumed run); it gives the function to call after each batch."""
        console = None if self.quiet or not trainer.is_main else self.console
        if console is None or console.quiet:
            return nullcontext(_ignore)
        if not console.is_terminal:  # a log file or a pipe: a line now and then, not a bar
            return nullcontext(_progress_lines(epoch, total, done))
        return _progress_bar(console, epoch, total, done)

    def epoch_end(self, trainer: TrainerView, row: dict[str, float]) -> None:
        """An epoch ended; `row` is its line of the epoch table (trainer.history[-1])."""
        if not trainer.is_main:
            return
        if not self.quiet:
            self._print_new_rows(trainer.history)
        if trainer.run_dir is None:
            return
        atomic_write(trainer.run_dir / "metrics.csv", metrics_csv(trainer.history))
        last_epoch = row["epoch"] == trainer.config.epochs - 1
        if last_epoch or time.monotonic() - self._plotted_at > PLOT_EVERY_S:
            self.plot(trainer)

    def note(self, line: str) -> None:
        """A status line worth a user's eye (stderr: stdout keeps the table)."""
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def stopped_early(self, trainer: TrainerView, stale: int) -> None:
        """Early stopping ended the run before its last epoch: say so, draw the curves."""
        self.note(
            f"stopped early: {trainer.best_by} has not improved for {stale} epochs "
            f"(patience {trainer.config.patience}); best is the best epoch's checkpoint"
        )
        if trainer.run_dir is not None:
            self.plot(trainer)

    def interrupted(self, trainer: TrainerView) -> None:
        """Ctrl-C: `last` is saved; draw the curves as far as they go."""
        if trainer.run_dir is not None and trainer.is_main:
            self.plot(trainer)

    # -- output -------------------------------------------------------------------------------

    def plot(self, trainer: TrainerView) -> None:
        """curves.png from the history so far."""
        assert trainer.run_dir is not None
        if trainer.history:
            plot_curves(trainer.history, trainer.batch_losses, trainer.run_dir / "curves.png")
        self._plotted_at = time.monotonic()

    def _print_new_rows(self, history: list[dict[str, float]]) -> None:
        """The epoch table, a row as each epoch ends (a resumed run first repeats the rows
        it had)."""
        if self._shown == 0:
            self.console.print(format_header(list(history[0])), highlight=False)
        for row in history[self._shown :]:
            self.console.print(format_row(row), highlight=False)
        self._shown = len(history)


def _ignore(loss: float) -> None:
    pass


def _progress_lines(epoch: int, total: int, done: int, every: float | None = None) -> Advance:
    """Off a terminal: a status line on stderr every `every` seconds (PROGRESS_EVERY_S) of an
    epoch, so a long epoch in a log is seen to move; an epoch shorter than that prints none."""
    every = PROGRESS_EVERY_S if every is None else every
    start = last = time.monotonic()
    count = done

    def advance(loss: float) -> None:
        nonlocal last, count
        count += 1
        now = time.monotonic()
        if now - last >= every:
            last = now
            print(
                f"epoch {epoch}: batch {count}/{total}, loss {loss:.3f}, {now - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    return advance


@contextmanager
def _progress_bar(console: Console, epoch: int, total: int, done: int) -> Iterator[Advance]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(f"epoch {epoch}", total=total, completed=done)

    def advance(loss: float) -> None:
        progress.update(task, advance=1, description=f"epoch {epoch} loss {loss:.3f}")

    with progress:
        yield advance


# -- the epoch table and metrics.csv ------------------------------------------------------------


def _fmt(name: str, value: float) -> str:
    if name == "epoch":
        return str(int(value))
    if name == "time":
        m, s = divmod(int(round(value)), 60)
        return f"{m:02d}:{s:02d}"
    return f"{value:.6f}" if math.isfinite(value) else str(value)


def _width(name: str) -> int:
    return max(len(name), 10)


def format_header(columns: list[str]) -> str:
    return "  ".join(c.ljust(_width(c)) for c in columns).rstrip()


def format_row(row: dict[str, float]) -> str:
    return "  ".join(_fmt(k, v).ljust(_width(k)) for k, v in row.items()).rstrip()


def metrics_csv(history: list[dict[str, float]]) -> str:
    buf = io.StringIO()
    if history:
        writer = csv.DictWriter(buf, fieldnames=list(history[0]), lineterminator="\n")
        writer.writeheader()
        for row in history:
            writer.writerow({k: (int(v) if k == "epoch" else f"{v:.6f}") for k, v in row.items()})
    return buf.getvalue()
