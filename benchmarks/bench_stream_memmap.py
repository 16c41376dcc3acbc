"""BPTTStream over a memory-mapped token file: batches/s and peak memory as the corpus grows.

For token files of 1M, 10M and 100M tokens (uint16, as the token cache writes them), each
in a fresh process, one epoch of training batches (bs 64, random bptt around 70):

  memmap     np.load(mmap_mode="r"): what `seqlab pretrain PATH...` does
  in RAM     np.load(...).astype(int64): the naive loader (a LongTensor of the whole corpus)

Memory is read from /proc/self/status: VmHWM (peak resident set), and at the end RssAnon
(memory the process allocated) and RssFile (pages of mapped files that are resident: the
kernel's page cache, shared and dropped under memory pressure, never more than the file).

    OMP_NUM_THREADS=1 python benchmarks/bench_stream_memmap.py [--max-tokens 100000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BS, BPTT = 64, 70


def status_mb() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def make_tokens(path: Path, n: int) -> None:
    from seqlab.data.tokenize import NpyWriter

    rng = np.random.default_rng(0)
    with NpyWriter(path, np.uint16) as w:
        w.append(np.array([2]))
        for start in range(0, n - 1, 10_000_000):
            w.append(rng.integers(8, 30_000, min(10_000_000, n - 1 - start)))


def child(path: str, mode: str) -> None:
    """One measurement, in its own process: load, then one epoch of batches."""
    import torch

    from seqlab import BPTTStream

    torch.set_num_threads(1)
    before = status_mb()
    tokens = np.load(path, mmap_mode="r")
    if mode == "in RAM":
        tokens = np.load(path).astype(np.int64)
    stream = BPTTStream([tokens], bs=BS, bptt=BPTT, random_bptt=True, shuffle=True, seed=0)
    stream.set_epoch(0)
    start, n, checksum = time.perf_counter(), 0, 0
    for x, _ in stream:
        n += 1
        checksum += int(x[0, 0])  # touch the batch
    seconds = time.perf_counter() - start
    print(json.dumps({"batches": n, "seconds": seconds, "before": before, "after": status_mb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-tokens", type=int, default=100_000_000)
    ap.add_argument("--child", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    sizes = [n for n in (1_000_000, 10_000_000, 100_000_000) if n <= args.max_tokens]
    print(
        f"bs={BS}, bptt={BPTT} (random), one epoch each; memory in MB. extra: grown since just "
        f"before the tokens were loaded (torch's own memory not counted): peak RSS, anon "
        f"(allocated), file (resident pages of mapped files: page cache, dropped under pressure)"
    )
    print(
        f"{'tokens':>12} {'file MB':>8} {'mode':>8} {'batches/s':>10} {'peak RSS':>9} "
        f"{'extra':>7} {'anon':>7} {'file':>7}"
    )
    try:
        for n in sizes:
            path = work / f"tokens-{n}.npy"
            make_tokens(path, n)
            mb = path.stat().st_size / 2**20
            rows = {}
            for mode in ("memmap", "in RAM"):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), mode],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows[mode] = r
                a, z = r["before"], r["after"]
                print(
                    f"{n:>12,} {mb:>8.0f} {mode:>8} {r['batches'] / r['seconds']:>10,.0f} "
                    f"{z['VmHWM']:>9.0f} {z['VmHWM'] - a['VmRSS']:>7.0f} "
                    f"{z['RssAnon'] - a['RssAnon']:>7.0f} {z['RssFile'] - a['RssFile']:>7.0f}"
                )
            m, b = rows["memmap"], rows["in RAM"]
            print(
                f"{'':>12} {'':>8} {'ratio':>8} "
                f"{(m['batches'] / m['seconds']) / (b['batches'] / b['seconds']):>9.2f}x "
                f"{m['after']['VmHWM'] / b['after']['VmHWM']:>8.2f}x   (memmap / in RAM)"
            )
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
