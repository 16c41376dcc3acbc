"""Never write over what is not ours: the one rule for every file or folder a command writes
that the user named (`predict --out`, `export DIR`, `export-model RUN DIR`; the training
commands' `--out` run directory follows the same rule in `seqlab.cli.options.check_out`).

- Never a path the command reads (its input, the run it loads), nor a folder holding one,
  nor anything inside a run directory or an exported model directory: those files are
  seqlab's own, and a stray write breaks the run's `--resume` or the model. `--overwrite`
  does not lift this.
- A file that exists, or a folder that is not empty, is replaced only with `--overwrite`.
- The folder a file goes in must exist and be writable: said now, naming it, not as an error
  about a hidden temporary file once the work is done.

Each check raises `TargetError` (a ValueError, so the CLI shows one line) naming the option
and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from seqlab.store import modeldir
from seqlab.store.checkpoint import MANIFEST
from seqlab.store.rundir import CHECKPOINTS, LOCK, overlaps

# What marks a run directory: its commit manifest, its lock, a checkpoint, its epoch log.
RUN_MARKS = (MANIFEST, LOCK, "metrics.csv", *(f"{stem}.json" for stem in CHECKPOINTS))


class TargetError(ValueError):
    """A file or folder this command must not write (or cannot)."""


def is_run_dir(path: Path) -> bool:
    return Path(path).is_dir() and any((Path(path) / m).exists() for m in RUN_MARKS)


def owner(path: Path) -> Path | None:
    """The run directory or exported model directory that `path` is, or is inside; else None."""
    for d in (Path(path).resolve(), *Path(path).resolve().parents):
        if is_run_dir(d) or (d.is_dir() and modeldir.is_model_dir(d)):
            return d
    return None


def _check_reads(path: Path, option: str, reading: Iterable[Path]) -> None:
    for source in reading:
        if str(source) == "-":
            continue
        same = path.exists() and source.exists() and os.path.samefile(path, source)
        if same or (source.is_dir() and overlaps(path, source)):
            raise TargetError(
                f"{option} {path} would write over {source}, which this command reads; "
                f"choose another {option}"
            )


def _check_not_owned(path: Path, option: str, allow: Path | None = None) -> None:
    held = owner(path)
    if held is not None and held != allow:
        kind = "run directory" if is_run_dir(held) else "model directory"
        where = "is the" if held == path.resolve() else "is inside the"
        raise TargetError(
            f"{option} {path} {where} {kind} {held}, whose files seqlab keeps there; "
            f"choose another {option}"
        )


def check_file(path: Path, option: str, overwrite: bool, reading: Iterable[Path] = ()) -> Path:
    """`path` may be written as a new file (or replace one, with `overwrite`)."""
    path = Path(path)
    if path.is_dir():
        raise TargetError(f"{option} {path} is a directory; give a file name")
    _check_reads(path, option, reading)
    _check_not_owned(path, option)
    folder = path.parent
    if not folder.is_dir():
        raise TargetError(
            f"{option} {path}: the folder {folder} does not exist; create it, or choose "
            f"another {option}"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TargetError(f"{option} {path}: cannot write in the folder {folder} (permission)")
    if path.exists() and not overwrite:
        raise TargetError(
            f"{option} {path} exists; replace it with --overwrite, or choose another {option}"
        )
    return path


def check_dir(
    path: Path, option: str, overwrite: bool, reading: Iterable[Path] = (), model: bool = False
) -> Path:
    """Files may be written into the folder `path`: new or empty, or one that holds what this
    command writes, with `overwrite` (its files are replaced, others kept). With `model` the
    folder is an exported model directory: only an earlier export is replaced, never a folder
    of other files. Creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TargetError(f"{option} {path} is a file, not a directory; choose another {option}")
    _check_reads(path, option, reading)
    empty = not path.exists() or not any(path.iterdir())
    earlier = model and not empty and modeldir.is_export(path)
    _check_not_owned(path, option, allow=path.resolve() if earlier else None)
    if model and not empty and not earlier:
        raise TargetError(
            f"{option} {path}: not empty and not an exported seqlab model; give a new directory"
        )
    if not empty and not overwrite:
        what = "the earlier export" if earlier else "what is there"
        raise TargetError(
            f"{option} {path} is not empty; replace {what} with --overwrite, or choose "
            f"another {option}"
        )
    writable = path if path.exists() else _existing_parent(path)
    if not os.access(writable, os.W_OK | os.X_OK):
        raise TargetError(f"{option} {path}: cannot write in {writable} (permission)")
    return path


def _existing_parent(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")
