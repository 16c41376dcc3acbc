"""The CLI's option kit: every command builds its options and errors from here.

- `options_from(Settings)` turns the fields of a settings dataclass (seqlab.settings) into
  click options: default, help and range come from the field, so a default lives in one place.
- The options every command shares (`--device`, `--layout`, `--seed`, `--out`, `--resume`,
  `--overwrite`) are declared once below, and so is what a run directory may be
  (`check_out`, `refuse_with_resume`, `locked_run`).
- `user_errors` turns a user's mistake (a bad value, an unknown name, an unreadable file)
  into one line on stderr and exit code 2; a SettingError is named by its option (--hidden).

The library below (seqlab.*) never imports this module: `import seqlab` stays free of click.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import threading
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from seqlab import registry
from seqlab.data.stream import LAYOUTS
from seqlab.settings import SettingError
from seqlab.store.checkpoint import committed_file, has_checkpoint, read_json
from seqlab.store.errors import CheckpointError
from seqlab.store.rundir import RunInUse, RunLock, clear_run, is_empty, overlaps
from seqlab.train import distributed
from seqlab.train.runlog import default_run_dir  # noqa: F401  (the commands' --out default)
from seqlab.train.threads import ENV as THREADS_ENV
from seqlab.train.threads import PER_CORE, set_threads
from seqlab.train.trainer import resolve_device

POSITIVE = click.IntRange(min=1)  # counts and sizes: --bs, --rows, ...


class UserError(click.ClickException):
    """A mistake in what the user asked for: one line on stderr, exit code 2, no traceback."""

    exit_code = 2


def flag(name: str) -> str:
    """The option spelling of a settings field: lr_factor -> --lr-factor."""
    return "--" + name.replace("_", "-")


def user_errors(func):
    """Turn the errors a user can cause (bad values, unknown names, unreadable or
    unwritable files) into a `UserError`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except SettingError as e:
            raise UserError(f"{flag(e.name)} {e.problem}") from None
        except registry.UnknownPlugin as e:
            raise UserError(str(e)) from None
        except (ValueError, CheckpointError) as e:
            raise UserError(str(e)) from None
        except OSError as e:
            raise UserError(os_error(e)) from None

    return wrapper


def os_error(e: OSError) -> str:
    """An OSError in words, without Python's `[Errno N]` prefix: the file, then the reason."""
    if e.strerror is None:
        return str(e)
    return f"{e.filename}: {e.strerror}" if e.filename is not None else e.strerror


def writable_dir(path: Path, option: str = "--out") -> Path:
    """Create `path` (and parents) now, so an unwritable output fails before any work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # one probe per process: torchrun ranks may check the same directory at once
        probe = path / f".seqlab-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write to {option} {path}: {e.strerror or e}") from None
    return path


# -- options generated from settings dataclasses ----------------------------------------------


def _click_type(f: dataclasses.Field, hint: Any) -> Any:
    m = f.metadata
    if m.get("choices") is not None:
        return click.Choice(list(m["choices"]))
    base = _strip_optional(hint)
    if base in (int, float):
        rng = click.IntRange if base is int else click.FloatRange
        if m.get("min") is None and m.get("max") is None:
            return base
        return rng(
            min=m.get("min"),
            max=m.get("max"),
            min_open=m.get("min_open", False),
            max_open=m.get("max_open", False),
        )
    return base if base in (str, Path) else None


def _strip_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def options_from(cls: type, only: tuple[str, ...] | None = None, **defaults: Any):
    """Click options for the fields of settings dataclass `cls` (those with `cli=True`, or
    the `only` ones, in that order). A bool field is an on/off flag pair; a field whose
    default is None shows `[default: auto]` unless its help says otherwise. `defaults`
    override a field's default for this command only."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = only or tuple(n for n, f in fields.items() if f.metadata.get("cli"))

    def decorate(command):
        for name in reversed(names):
            f = fields[name]
            default = defaults.get(name, f.default)
            help_text = f.metadata.get("help", "")
            hint = _strip_optional(hints[name])
            if hint is bool:
                option = click.option(
                    f"{flag(name)}/--no-{name.replace('_', '-')}",
                    default=default,
                    show_default=default is not None,
                    help=help_text,
                )
            else:
                option = click.option(
                    flag(name),
                    type=_click_type(f, hints[name]),
                    default=default,
                    show_default=default is not None,
                    help=help_text,
                )
            command = option(command)
        return command

    return decorate


def settings_from(cls: type, opts: dict[str, Any], **fixed: Any) -> Any:
    """An instance of `cls` from a command's options (taking out the ones it has)."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: opts.pop(k) for k in list(opts) if k in names}
    return cls(**values, **fixed)


# -- the options every command shares --------------------------------------------------------


def _check_device(ctx, param, value: str) -> str:
    """Fail now, not after the data is read, when the device cannot be had."""
    try:
        resolve_device(value)
    except ValueError:
        raise UserError(
            f"--device {value}: no CUDA GPU is available here; use --device cpu"
        ) from None
    return value


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    callback=_check_device,
    help="auto takes a GPU when there is one.",
)

layout_option = click.option(
    "--layout",
    type=click.Choice(list(LAYOUTS)),
    default="contiguous",
    show_default=True,
    help="How the stream is cut into rows: contiguous (equal slices) or fastai-v1 (the "
    "course's layout); see docs/design.md.",
)


def seed_option(help: str = "Random seed."):
    return click.option(
        "--seed", type=click.IntRange(min=0), default=42, show_default=True, help=help
    )


def out_option(name: str):
    """--out RUN_DIR [default: runs/NAME-YYYYmmdd-HHMMSS]."""
    return click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help=f"Run directory [default: runs/{name}-YYYYmmdd-HHMMSS].",
    )


resume_option = click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue the stopped run in this directory (its saved settings are used; "
    "--epochs N beyond its own trains on, with a new one-cycle schedule for the extra epochs).",
)

overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Start the new run in an --out that holds another: that run's checkpoints, config, "
    "metrics and scores are deleted (other files are kept). Never allowed on a run this "
    "command reads.",
)

# With --resume the run's own settings are used: only these may be given as well.
RESUME_MAY_CHANGE = ("resume", "device", "epochs", "quiet", "threads")


def refuse_with_resume(run_dir: Path) -> None:
    """With --resume, any other setting given is a one-line error naming it."""
    ctx = click.get_current_context()
    given = [
        p.opts[0] if isinstance(p, click.Option) else p.human_readable_name
        for p in ctx.command.params
        if p.name is not None and p.name not in RESUME_MAY_CHANGE and is_given(p.name)
    ]
    if given:
        raise UserError(
            f"--resume {run_dir} continues with the run's own settings; drop "
            f"{', '.join(given)} (or start a new run with --out)"
        )


def resume_epochs(run_dir: Path, saved: int, epochs: int | None) -> int:
    """The epochs of a resumed run: its own, or --epochs N when given (at least its own)."""
    if epochs is None or epochs == saved:
        return saved
    if epochs < saved:
        raise UserError(
            f"--epochs {epochs}: the run {run_dir} has {saved} epochs; a resumed run trains "
            f"on: give more than {saved}, or leave --epochs out"
        )
    return epochs


def is_given(name: str) -> bool:
    """Whether the current command's parameter `name` was set by the user (not a default)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)


def check_out(
    out: Path, overwrite: bool, reading: Mapping[str, Iterable[Path]], resumable: bool = True
) -> Path:
    """Check, creating nothing, that a new run may be written in `out`: it is empty or absent
    (else --overwrite), and it is none of the runs the command reads (`reading`: option ->
    paths), nor inside one, nor holding one, whatever --overwrite says."""
    for option, paths in reading.items():
        for path in paths:
            # a run directory, or the one a checkpoint is in; a path that is neither is
            # the reader's error to report
            source = path if path.is_dir() else path.parent
            if (path.exists() or has_checkpoint(path)) and overlaps(out, source):
                raise UserError(
                    f"--out {out} would write over {option} {path}, which this command reads; "
                    f"choose another --out"
                )
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: a file, not a directory; choose another --out")
    if not overwrite and not is_empty(out):
        if resumable and has_checkpoint(out / "train_state"):
            resume = f"continue the run there with --resume {out}, "
        elif resumable and stopped_early(out):
            raise UserError(
                f"--out {out} holds a run stopped before its first checkpoint (nothing to "
                f"resume): start it again with --overwrite, or choose another --out"
            )
        else:
            resume = ""
        raise UserError(
            f"--out {out} is not empty: {resume}replace it with --overwrite, or choose another "
            f"--out"
        )
    return out


def stopped_early(run_dir: Path) -> bool:
    """A run directory whose run was killed before its first checkpoint: its config or lock,
    no train_state to continue from."""
    marks = ("config.json", "run.lock", "metrics.csv")
    return not has_checkpoint(run_dir / "train_state") and any(
        (run_dir / m).exists() for m in marks
    )


def check_resumable(run_dir: Path) -> None:
    """--resume RUN of a run with nothing saved: say so, and that --overwrite starts it anew."""
    if Path(run_dir).is_dir() and stopped_early(Path(run_dir)):
        raise UserError(
            f"--resume {run_dir}: the run stopped before its first checkpoint, so there is "
            f"nothing to resume; start it again with --out {run_dir} --overwrite"
        )


def finished(run_dir: Path, epochs: int, command: str) -> bool:
    """Whether the run in `run_dir` has trained all `epochs` already; if so it says so on
    stderr, with how to train on (a resumed finished run would otherwise exit in silence)."""
    try:
        state = read_json(committed_file(Path(run_dir) / "train_state", ".json"))
        done = int(state["epoch"]) >= epochs and int(state["step"]) == 0
    except (OSError, ValueError, KeyError, TypeError, CheckpointError):
        return False  # the resume itself reports a broken run
    if done and distributed.is_main():
        click.echo(
            f"the run in {run_dir} is complete: all {epochs} epochs trained, nothing to do. "
            f"To train on: {command} --resume {run_dir} --epochs N (N > {epochs})",
            err=True,
        )
    return done


@contextmanager
def locked_run(run_dir: Path, option: str = "--out", overwrite: bool = False) -> Iterator[Path]:
    """The run directory, created and locked (run.lock) for this command while it lasts; with
    `overwrite`, the run that was there is deleted once the lock is held. Under torchrun only
    rank 0 writes, so only rank 0 locks (after every rank has checked the directory)."""
    distributed.all_gather([None])  # every rank's checks happen before rank 0 creates anything
    if not distributed.is_main():
        yield run_dir
        return
    created = not run_dir.exists()
    writable_dir(run_dir, option)
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunInUse as e:
        if created:
            run_dir.rmdir()
        raise UserError(f"{option} {e}") from None
    try:
        with sigterm_as_ctrl_c():
            if overwrite:
                clear_run(run_dir)
            yield run_dir
    except KeyboardInterrupt:  # before training began (the Trainer handles its own), or twice
        saved = has_checkpoint(run_dir / "train_state")
        again = f"; continue with --resume {run_dir}" if saved else ""
        click.echo(f"interrupted - checkpoints saved before are kept{again}", err=True)
        raise SystemExit(130) from None
    finally:
        lock.release()
        if created and not has_checkpoint(run_dir / "train_state"):  # nothing worth keeping
            clear_run(run_dir)
            if is_empty(run_dir):
                run_dir.rmdir()


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so `kill` stops a command as cleanly
    (the Trainer, while it fits, turns both into a stop at the next step)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _set_threads(ctx, param, value: int | None) -> int | None:
    """Set torch's thread count as soon as the option is read, before any work."""
    try:
        set_threads(value)
    except ValueError as e:
        raise UserError(str(e)) from None
    return value


threads_option = click.option(
    "--threads",
    type=POSITIVE,
    default=None,
    expose_value=False,
    callback=_set_threads,
    help=f"CPU threads torch may use, at most {PER_CORE} per core [default: ${THREADS_ENV}, else "
    "torch's: one per core]. On a busy machine fewer can be much faster (docs/scale.md).",
)

quiet_option = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Only the summary (stdout) and errors: no progress bars, epoch table or status lines.",
)

lr_find_option = click.option(
    "--lr-find",
    is_flag=True,
    help="Instead of training: the learning-rate finder (Smith 2017). Trains at most 100 "
    "batches while the rate grows from 1e-7 to 10, stops when the loss diverges, prints a "
    "suggested --lr and writes lr_find.png and lr_find.csv in --out (nothing else: no "
    "checkpoints). Every other option means what it does for training.",
)


def lr_find_dir(out: Path | None, name: str) -> Path:
    """Where --lr-find writes: --out, else runs/NAME-lr-find-YYYYmmdd-HHMMSS."""
    return writable_dir(out or default_run_dir(f"{name}-lr-find"))


def report_lr_find(finding: Any, directory: Path, quiet: bool) -> None:
    """The finder's files, then its suggestion on stdout (the summary)."""
    paths = finding.save(directory)
    if not quiet:
        click.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)
    click.echo(finding.summary())


def status_echo(quiet: bool):
    """How a command prints a status line: on stderr (stdout keeps the summary), or not at all
    with --quiet."""
    if quiet:
        return lambda line: None
    return lambda line: click.echo(line, err=True)
