"""Running a fault case and saying what came of it: the table's columns, a family's tally,
seqlab in this process (click's runner) or as its own process under a time limit, and loading
a checkpoint as `seqlab predict` does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = ("ok", "one-line", "traceback", "hang", "unloadable", "not-identical", "overwritten")
COLUMNS += ("wrong",)  # a refusal that does not say what it should, or a run that should refuse
FAILURES = COLUMNS[2:]
TIMEOUT = 120  # seconds a single case may take before it counts as a hang


class Hang(BaseException):
    """Raised by the alarm in a case that ran past its time (not an Exception: nothing in
    seqlab may catch it as an error)."""


@dataclass
class Tally:
    family: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    cases: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)  # the failing cases
    info: list[str] = field(default_factory=list)  # the others (--verbose)

    def add(self, outcome: str, case: str = "", detail: str = "") -> None:
        self.cases += 1
        self.counts[outcome] += 1
        line = f"{self.family}: {case}: {outcome}: {detail.strip()}"[:300]
        if outcome in FAILURES:
            self.notes.append(line)
        else:
            self.info.append(line)

    @property
    def failures(self) -> int:
        return sum(self.counts[c] for c in FAILURES)


# -- running seqlab ------------------------------------------------------------------------------


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum, frame):
        raise Hang

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    kind: str  # "ok", "one-line", "traceback", "hang"
    output: str
    code: int | None = None


def verdict(code: int | None, output: str, expect: tuple[int, ...] = (0,)) -> str:
    """What an exit code and its output mean: the expected codes are "ok"; exit 2 with one
    `Error:` line and no traceback is "one-line"; anything else is a "traceback"."""
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    if "Traceback" in output:
        return "traceback"
    if code in expect:
        return "ok"
    if code == 2 and len(errors) == 1:
        return "one-line"
    return "traceback"


def invoke(
    *args: Any, timeout: int = TIMEOUT, input: str | None = None, env: dict | None = None
) -> Outcome:
    """`seqlab ARGS` in this process (click's test runner): fast, and exceptions are seen."""
    from click.testing import CliRunner

    from seqlab.cli.main import cli

    try:
        with alarm(timeout):
            result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)
    except Hang:
        return Outcome("hang", "", None)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        name = type(result.exception).__name__
        return Outcome("traceback", f"{name}: {result.exception}\n{output}", result.exit_code)
    return Outcome(verdict(result.exit_code, output), output, result.exit_code)


def seqlab_process(*args: Any, **popen: Any) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "seqlab", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )


def run_process(*args: Any, timeout: int = TIMEOUT) -> Outcome:
    proc = seqlab_process(*args)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Outcome("hang", "", None)
    return Outcome(verdict(proc.returncode, err), out + err, proc.returncode)


def weights_of(stem: Path) -> dict[str, Any]:
    from seqlab.store.checkpoint import load_tensors

    return load_tensors(stem)[0]


def same_weights(a: dict[str, Any], b: dict[str, Any]) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def try_load(stem: Path) -> tuple[str, str, dict | None]:
    """Load a checkpoint as `seqlab predict` would: (outcome, detail, its weights)."""
    from seqlab import load_model
    from seqlab.store.errors import CheckpointError

    try:
        with alarm(TIMEOUT):
            model, _, _ = load_model(stem)
    except Hang:
        return "hang", "", None
    except CheckpointError as e:
        one_line = "\n" not in str(e)
        return ("one-line" if one_line else "traceback"), str(e), None
    except Exception as e:  # noqa: BLE001 - what the benchmark is here to count
        return "traceback", f"{type(e).__name__}: {e}", None
    return "ok", "", {k: v for k, v in model.state_dict().items()}


def refused(result: Outcome, where: str) -> str:
    if result.kind == "one-line" and where in result.output:
        return "ok"
    return "traceback" if result.kind in ("ok", "one-line") else result.kind


@contextlib.contextmanager
def fed_fifo(path: Path, text: str) -> Iterator[Path]:
    """A named pipe at PATH that a thread writes TEXT into, as `<(command)` would be; on
    leaving, the writer is released even if nothing ever opened the pipe."""
    if not path.exists():
        os.mkfifo(path)

    def write() -> None:
        with open(path, "w") as f:
            f.write(text)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=10)


def snapshot(paths: list[Path]) -> dict[Path, bytes | None]:
    """The bytes of each path (None: not there), to tell afterwards what a command changed."""
    return {p: p.read_bytes() if p.is_file() else None for p in paths}


def judge(result: Outcome, says: str | None, kept: dict[Path, bytes | None] | None = None) -> str:
    """A case's outcome: "overwritten" if a file of `kept` changed; a hang or traceback as it
    is; with `says`, the right answer is a one-line error containing it ("wrong" otherwise,
    a success included); with says None, the right answer is to succeed."""
    if any((p.read_bytes() if p.is_file() else None) != b for p, b in (kept or {}).items()):
        return "overwritten"
    if result.kind in ("hang", "traceback"):
        return result.kind
    if says is None:
        return "ok" if result.kind == "ok" else "wrong"
    return "one-line" if result.kind == "one-line" and says in result.output else "wrong"
