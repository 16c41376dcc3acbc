"""How much `--threads` matters: the same small pretraining run with 1 and with 2 torch
threads, alternated so both see the same background load, timed by wall clock and CPU time.

    python benchmarks/bench_threads.py [--epochs 3] [--repeats 3]

Prints each run and the medians' ratios (2 threads / 1 thread). On a machine whose cores are
busy with other work, torch's second thread mostly spins waiting for the first, so the ratio
of CPU time is ~2 and wall time can rise too; on idle cores the wall time should fall. The
figure quoted in docs/scale.md comes from this script.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def one_run(threads: int, epochs: int, out: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `seqlab pretrain human-numbers` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SEQLAB_THREADS")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab",
            "pretrain",
            "human-numbers",
            "--epochs",
            str(epochs),
            "--threads",
            str(threads),
            "--quiet",
            "--device",
            "cpu",
            "--out",
            out,
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for threads in (1, 2):
                wall, cpu = one_run(threads, args.epochs, f"{tmp}/run-{threads}-{r}")
                times[threads].append((wall, cpu))
                print(f"threads {threads}: wall {wall:6.1f} s, CPU {cpu:6.1f} s", flush=True)
    wall = {t: statistics.median(w for w, _ in v) for t, v in times.items()}
    cpu = {t: statistics.median(c for _, c in v) for t, v in times.items()}
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(
        f"median wall: 1 thread {wall[1]:.1f} s, 2 threads {wall[2]:.1f} s, "
        f"ratio {wall[2] / wall[1]:.2f}"
    )
    print(
        f"median CPU:  1 thread {cpu[1]:.1f} s, 2 threads {cpu[2]:.1f} s, "
        f"ratio {cpu[2] / cpu[1]:.2f}"
    )


if __name__ == "__main__":
    main()
