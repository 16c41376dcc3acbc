"""The CLI's option kit: every command builds its options and errors from here.

- `options_from(Settings)` turns the fields of a settings dataclass (seqlab.settings) into
  click options: default, help and range come from the field, so a default lives in one place.
- The options every command shares (`--device`, `--layout`, `--seed`, `--out`, `--resume`)
  are declared once below.
- `user_errors` turns a user's mistake (a bad value, an unknown name, an unreadable file)
  into one line on stderr and exit code 2; a SettingError is named by its option (--hidden).

The library below (seqlab.*) never imports this module: `import seqlab` stays free of click.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
import types
import typing
from pathlib import Path
from typing import Any

import click

from seqlab import registry
from seqlab.checkpoint import CheckpointError
from seqlab.settings import SettingError
from seqlab.stream import LAYOUTS
from seqlab.train import resolve_device

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
        except (ValueError, CheckpointError, OSError) as e:
            raise UserError(str(e)) from None

    return wrapper


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


def default_run_dir(name: str) -> Path:
    """runs/NAME-YYYYmmdd-HHMMSS: where a command writes when --out is not given."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


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
    help="Continue the stopped run in this directory (its saved settings are used).",
)
