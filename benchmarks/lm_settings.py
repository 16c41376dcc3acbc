"""Try `seqlab pretrain human-numbers` settings: each trained once with a held-out tail of
train (to choose; the cache is tuned there too) and once on all of train (to report valid,
with and without the cache). Two settings at a time, one thread each. Prints one JSON line
per setting and seed and appends it to --log; docs/accuracy.md summarises them.

    python benchmarks/lm_settings.py --log runs/settings.jsonl \
        "base=" "wd=--wd 0.1" "drop=--emb-drop 0.1 --weight-drop 0.2"
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def sh(cmd: list[str], log: Path) -> tuple[str, float]:
    """Run cmd, its output in LOG.out / LOG.err; (stdout, CPU seconds it used). With one
    thread, CPU seconds are close to the wall time it would take on an idle core, whatever
    else the machine runs."""
    out_path, err_path = log.with_suffix(".out"), log.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(cmd, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(cmd)}: {err_path.read_text()[-500:]}")
    return out_path.read_text(), usage.ru_utime + usage.ru_stime


def train(out: Path, flags: str, seed: int, holdout: float | None) -> dict:
    cmd = ["seqlab", "pretrain", "human-numbers", "--out", str(out), "--seed", str(seed)]
    cmd += shlex.split(flags) + (["--holdout", str(holdout)] if holdout else [])
    done = out / "figures.json"
    if done.is_file() and json.loads(done.read_text())["cmd"] == cmd:  # trained already
        return json.loads(done.read_text())["figures"]
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _, cpu = sh(cmd, out / "pretrain.log")
    wall = time.perf_counter() - start
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    figures = {
        "accuracy": float(rows[-1]["accuracy"]),
        "loss": float(rows[-1]["valid_loss"]),
        "seconds": sum(float(r["time"]) for r in rows),
        "cpu": cpu,
        "wall": wall,
    }
    done.write_text(json.dumps({"cmd": cmd, "figures": figures}))
    return figures


def setting(name: str, flags: str, seed: int, holdout: float, root: Path, cache: bool) -> dict:
    held_dir, full_dir = root / f"{name}-h-s{seed}", root / f"{name}-v-s{seed}"
    result = {"name": name, "flags": flags, "seed": seed, "holdout": holdout}
    try:
        result["held"] = train(held_dir, flags, seed, holdout)
        result["valid"] = train(full_dir, flags, seed, None)
        if cache:
            sh(["seqlab", "tune-cache", str(held_dir)], held_dir / "tune")
            result["cache"] = json.loads((held_dir / "cache.json").read_text())
            cmd = ["seqlab", "evaluate", str(full_dir), "--cache", "--cache-from", str(held_dir)]
            out, _ = sh([*cmd, "--json"], full_dir / "evaluate")
            result["valid_cache"] = json.loads(out)["model+cache"]["accuracy"]
    except RuntimeError as e:
        result["error"] = str(e)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("settings", nargs="+", help="NAME=FLAGS")
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--root", type=Path, default=Path("/tmp/exp"))
    ap.add_argument("--holdout", type=float, default=0.15, help="held-out tail of train")
    ap.add_argument("--seeds", default="42")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    jobs = [
        (name, flags, int(seed))
        for name, _, flags in (s.partition("=") for s in a.settings)
        for seed in a.seeds.split(",")
    ]
    with ThreadPoolExecutor(a.jobs) as pool:
        run = lambda j: setting(*j, a.holdout, a.root, not a.no_cache)  # noqa: E731
        for result in pool.map(run, jobs):
            line = json.dumps(result)
            print(line, flush=True)
            with a.log.open("a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
