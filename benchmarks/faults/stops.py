"""Families `sigint`, `sigkill` and `disk-full`: a run stopped at a random moment, or on a disk
that fills up, must leave what loads, and resuming must end bit for bit where the
uninterrupted run ends."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from faults.fixtures import TINY_LM, Fixtures
from faults.harness import (
    TIMEOUT,
    Outcome,
    Tally,
    run_process,
    same_weights,
    seqlab_process,
    try_load,
    verdict,
    weights_of,
)

SIGNAL_RUN = ["pretrain", "human-numbers", *TINY_LM, "--bs", "64", "--bptt", "40"]
SIGNAL_RUN += ["--epochs", "3", "--seed", "7"]


def reference(fx: Fixtures) -> tuple[Path, float]:
    """The uninterrupted run the resumed ones must equal, and how long it took."""
    if "reference" not in fx._made:
        start = time.perf_counter()
        result = run_process(*SIGNAL_RUN, "--out", fx.root / "reference", timeout=600)
        if result.kind != "ok":
            raise RuntimeError(f"reference run failed: {result.output[-2000:]}")
        fx._made["reference"] = fx.root / "reference"
        fx.reference_seconds = time.perf_counter() - start
    return fx._made["reference"], fx.reference_seconds


def check_after_stop(fx: Fixtures, t: Tally, run: Path, desc: str, stop: Outcome) -> None:
    """After a run was stopped: what it left must load, and resuming must end where the
    uninterrupted run ended, bit for bit."""
    ref, _ = reference(fx)
    for name in ("best", "last"):
        if (run / f"{name}.json").exists() or (run / f"{name}.safetensors").exists():
            outcome, detail, _ = try_load(run / name)
            if outcome != "ok":
                t.add("unloadable", f"{desc}: {name}", detail)
                return
    if not (run / "train_state.json").exists() and not (run / "last.json").exists():
        t.add(stop.kind if stop.kind != "ok" else "ok", f"{desc}: stopped before any save")
        return
    result = run_process("pretrain", "--resume", run, timeout=600)
    if result.kind != "ok":
        t.add(result.kind, f"{desc}: resume", result.output[-300:])
        return
    same = same_weights(weights_of(run / "last"), weights_of(ref / "last"))
    t.add("ok" if same else "not-identical", desc)


def started(proc: subprocess.Popen, run: Path) -> float:
    """Wait until the run has started (its config.json is written: the data is read, the
    model built); the time waited. A signal before that hits Python's own start-up."""
    start = time.perf_counter()
    while not (run / "config.json").exists() and proc.poll() is None:
        time.sleep(0.05)
    return time.perf_counter() - start


def fam_signal(fx: Fixtures, t: Tally, rng: random.Random, n: int, sig: int) -> None:
    _, seconds = reference(fx)
    name = signal.Signals(sig).name
    for trial in range(n):
        run = fx.root / f"{name.lower()}-{trial}"
        proc = seqlab_process(*SIGNAL_RUN, "--out", run)
        startup = started(proc, run)
        delay = rng.uniform(0.0, 1.0) * max(seconds - startup, 1.0)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)
        delay += startup
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            t.add("hang", f"{name} at {delay:.1f}s: did not stop")
            continue
        # SIGINT outside the training loop (start-up, the last messages) is Python's: the
        # process dies of it (-2); what counts is then what it left, checked below
        expect = (0, 130, -2) if sig == signal.SIGINT else (0, -9)
        stop = Outcome(verdict(proc.returncode, err, expect), err, proc.returncode)
        if proc.returncode == -2:
            last = err.strip().splitlines()[-1:] or [""]
            t.info.append(f"{name} at {delay:.1f}s: died of the signal (exit -2); {last[0]}")
        if stop.kind == "traceback":
            t.add("traceback", f"{name} at {delay:.1f}s: exit {proc.returncode}", err[-300:])
            continue
        check_after_stop(fx, t, run, f"{name} at {delay:.1f}s", stop)
        shutil.rmtree(run, ignore_errors=True)


def fam_disk_full(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Runs on a small tmpfs that fills up, then resumed on a big disk."""
    mnt = fx.root / "tmpfs"
    mnt.mkdir(exist_ok=True)
    probe = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    )
    if probe.returncode != 0:
        t.skipped = f"cannot mount a tmpfs here ({probe.stderr.decode().strip() or 'not root'})"
        return
    subprocess.run(["umount", str(mnt)], check=True)
    ref, _ = reference(fx)
    full = sum(p.stat().st_size for p in ref.rglob("*") if p.is_file())
    for trial in range(n):
        size = rng.randint(max(full // 20, 16 << 10), full)
        size = (size + 4095) // 4096 * 4096
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True
        )
        try:
            result = run_process(*SIGNAL_RUN, "--out", mnt / "run", timeout=600)
            desc = f"tmpfs of {size >> 10} KiB"
            if result.kind == "traceback":
                t.add("traceback", desc, result.output[-300:])
                continue
            if result.kind == "hang":
                t.add("hang", desc)
                continue
            run = fx.root / f"disk-{trial}"
            shutil.copytree(mnt / "run", run) if (mnt / "run").exists() else run.mkdir()
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
        check_after_stop(fx, t, run, desc, result)
        shutil.rmtree(run, ignore_errors=True)
