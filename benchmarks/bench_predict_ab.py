"""`seqlab predict` of two checkouts side by side: CPU seconds per run, alternating A, B, A, B
(a noisy machine slows both alike), with the median ratio. For a speed change: check out the
commit before it with `git worktree add /tmp/before REV`, then

    OMP_NUM_THREADS=1 python benchmarks/bench_predict_ab.py /tmp/before RUN INPUT [--reps 3]
        [--minus FIRST] [-- PREDICT OPTIONS]

Each checkout's code is imported first (PYTHONPATH = its root and its plugins/), the same run
directory and input for both. Items per CPU s count INPUT's lines (its words for a tagger's
CoNLL input: pass --words N); with --minus FIRST (a one-sentence input), its time is taken off
each figure, so start-up is not counted. With --before-run RUN_A, A predicts with RUN_A
instead of RUN: two models side by side (give `.` as the checkout for the same code).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def cpu_s(root: Path, args: list[str]) -> float:
    """CPU seconds of one `seqlab predict` with `root`'s code."""
    env = dict(os.environ, PYTHONPATH=f"{root}:{root / 'plugins'}", OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "seqlab", "predict", *args], env=env, cwd="/",
                   stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path, help="the other checkout (A); B is this one")
    ap.add_argument("run", type=Path)
    ap.add_argument("input", type=Path)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--minus", type=Path, help="a one-item input whose time is taken off")
    ap.add_argument("--words", type=int, help="items in INPUT [default: its lines]")
    ap.add_argument("--before-run", type=Path, help="A's run directory [default: RUN]")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # after it: `seqlab predict` options
    args, options = ap.parse_args(argv[:cut]), argv[cut + 1 :]
    n = args.words or sum(1 for _ in args.input.open(encoding="utf-8"))
    rates: dict[str, list[float]] = {"A (before)": [], "B (this)": []}
    runs = [str((args.before_run or args.run).resolve()), str(args.run.resolve())]
    for _ in range(args.reps):
        for name, root, run in zip(rates, (args.before.resolve(), HERE), runs, strict=True):
            cpu = cpu_s(root, [run, str(args.input.resolve()), *options])
            if args.minus:
                cpu -= cpu_s(root, [run, str(args.minus.resolve()), *options])
            rates[name].append(n / cpu)
            print(f"{name}: {rates[name][-1]:,.0f} per CPU s", flush=True)
    a, b = (statistics.median(v) for v in rates.values())
    print(f"median A {a:,.0f}, B {b:,.0f} per CPU s: B/A = {b / a:.2f} ({n:,} items)")


if __name__ == "__main__":
    main()
