"""A run directory has one writer: the lock file that says who, and what a new run replaces.

`RunLock(run_dir)` creates RUN/run.lock holding the writer's pid and host, and removes it on
leaving. A second command on the same directory is refused while the first runs; a lock
left by a process that no longer exists (killed, or the machine rebooted) on this host is
stale and taken over. A lock from another host cannot be checked and is never taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from seqlab.store.checkpoint import EXTS, MANIFEST, PENDING

LOCK = "run.lock"
# What a run writes beside its checkpoints; --overwrite deletes these (and the checkpoints),
# nothing else: a directory holding other files keeps them.
RUN_FILES = ("config.json", "metrics.csv", "curves.png", "report.txt", "scores.json", MANIFEST)
CHECKPOINTS = ("best", "last", "train_state")


class RunInUse(ValueError):
    """Another live process holds the run directory's lock."""


class RunLock:
    """`with RunLock(run_dir): ...`: the directory is created if needed and locked."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK
        self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # a stale lock is removed, then taken
            if self._create():
                self._held = True
                return
            holder = read_lock(self.path)
            if holder is not None and not is_stale(holder):
                raise RunInUse(
                    f"{self.run_dir} is in use by {holder_words(holder)}; wait for it to end, "
                    f"or, if that process is gone, delete {self.path}"
                )
            self.path.unlink(missing_ok=True)
        raise RunInUse(f"{self.path}: cannot take the lock; delete it if no seqlab uses the run")

    def release(self) -> None:
        if self._held and (read_lock(self.path) or {}).get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self._held = False

    def _create(self) -> bool:
        """Create the lock file with its content in one step (link of a written file), so no
        other process ever sees it empty. False if it exists."""
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        tmp = self.run_dir / f".{LOCK}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        try:
            os.link(tmp, self.path)
            return True
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create-exclusive, then write
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(record))
            return True
        finally:
            tmp.unlink(missing_ok=True)


def holder_words(holder: dict[str, Any]) -> str:
    """Who holds a lock, from what its record says (a lock written by hand, or by another
    tool, may lack any field): "process 12 on box (since 2026-01-02 10:00:00)"."""
    words = f"process {holder['pid']}" if holder.get("pid") is not None else "another process"
    if holder.get("host"):
        words += f" on {holder['host']}"
    if holder.get("started"):
        words += f" (since {holder['started']})"
    return words


def read_lock(path: Path) -> dict[str, Any] | None:
    """The lock's record; None when there is none (or it cannot be read)."""
    return json_object(path)


def json_object(path: Path) -> dict[str, Any] | None:
    """A JSON file's object; None when it is missing, unreadable or not an object."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_stale(holder: dict[str, Any]) -> bool:
    """True when the lock's process is gone: on this host, and no process has its pid."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by someone else
        return False
    return False


def clear_run(run_dir: Path) -> None:
    """Delete the files of the run in `run_dir` (for --overwrite): its checkpoints, config,
    metrics and scores. Other files are kept."""
    run_dir = Path(run_dir)
    names = list(RUN_FILES)
    for stem in CHECKPOINTS:
        names += [f"{stem}{pending}{ext}" for pending in ("", PENDING) for ext in EXTS]
    for name in names:
        (run_dir / name).unlink(missing_ok=True)


def is_empty(run_dir: Path) -> bool:
    """Nothing in it (a missing directory is empty)."""
    return not run_dir.exists() or not any(run_dir.iterdir())


def overlaps(a: Path, b: Path) -> bool:
    """One directory is the other, or inside it."""
    a, b = Path(a).resolve(), Path(b).resolve()
    return a == b or a in b.parents or b in a.parents


def describe(run_dir: Path) -> dict[str, Any] | None:
    """What `seqlab runs` shows of a run directory (None if it holds no run): kind (the task),
    data (corpus or training file), best (the headline of its best checkpoint), epochs (done
    of planned), when (its last save), size (bytes). Reads JSON only; a field that cannot be
    read is "?"."""
    run_dir = Path(run_dir)
    config = json_object(run_dir / "config.json")
    if config is None or not any((run_dir / f"{s}.json").is_file() for s in CHECKPOINTS):
        return None
    raw = config.get("settings")
    settings: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = str(config.get("task", "?"))
    data = config.get("corpus") or settings.get("dataset") or settings.get("train") or "?"
    best = json_object(run_dir / "best.json") or json_object(run_dir / "last.json") or {}
    raw = best.get("metrics")
    metrics: dict[str, Any] = raw if isinstance(raw, dict) else {}
    state = json_object(run_dir / "train_state.json") or {}
    planned = (state.get("train_config") or {}).get("epochs", "?")
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    return {
        "path": str(run_dir),
        "kind": kind,
        "data": str(data),
        "best": _headline(kind, metrics),
        "epochs": f"{state.get('epoch', '?')}/{planned}",
        "when": time.strftime(
            "%Y-%m-%d %H:%M", time.localtime(max(p.stat().st_mtime for p in files))
        ),
        "size": sum(p.stat().st_size for p in files),
    }


def _headline(kind: str, metrics: dict[str, Any]) -> str:
    """A language model's valid_loss, else the head's first metric (its headline)."""
    names = [k for k in metrics if k not in ("epoch", "train_loss", "valid_loss", "time")]
    name = "valid_loss" if kind == "lm" or not names else names[0]
    value = metrics.get(name)
    return f"{name} {value:.4f}" if isinstance(value, int | float) else "?"


def find_runs(root: Path) -> list[dict[str, Any]]:
    """`describe` of every run directory under `root` (itself, and folders below), by path."""
    root = Path(root)
    candidates = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    return [d for d in map(describe, candidates) if d is not None]
