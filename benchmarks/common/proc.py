"""Running the commands a benchmark measures: one thread each, their own CPU seconds (wait4),
their output in a log, and one line instead of a row when a command cannot run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/

THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


class RowError(Exception):
    """A row that cannot be measured; its message replaces the row."""


_print = threading.Lock()


def say(msg: str) -> None:
    with _print:
        print(msg, flush=True)


def run(cmd: list, log: Path, env: dict | None = None) -> tuple[int, float, str]:
    """Run cmd with stdout+stderr to log; (exit code, its CPU seconds, the log's text). The
    CPU seconds are the child's own (and its children's), from wait4: exact even while other
    commands of this bench run at the same time (--jobs)."""
    cmd = [str(c) for c in cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.kill()
            p.wait()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    return p.returncode, usage.ru_utime + usage.ru_stime, text


def last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("Error:") or "Error" in ln.split(":")[0]:
            return ln[:300]
    return lines[-1][:300] if lines else "(no output)"


def is_usage_error(rc: int, text: str) -> bool:
    """click's usage errors: exit 2, 'Usage: ...' and 'Error: ...'."""
    return rc == 2 and "Usage:" in text and "Error:" in text


def seqlab_cmd(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "seqlab", *args]


def git_head() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()
    except OSError:
        return ""


def seqlab_wall(*args) -> tuple[float, str]:
    """Run a seqlab command to its end, the bench stopping with its output if it fails:
    (wall-clock seconds, stdout)."""
    start = time.perf_counter()
    cmd = seqlab_cmd([str(a) for a in args])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout
