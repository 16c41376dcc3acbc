"""Try `seqlab pretrain human-numbers` settings, as docs/accuracy.md reports them.

Each setting is trained twice: with the last 15% of train held out (to choose settings and
tune the cache; never valid) and on all of train (to report valid). Both are scored at bs 64
(fastai's valid metric: 64 rows, each starting from an empty state) and at bs 1 (the split
read as one stream), without and with the neural cache tuned on the held-out tail at that bs.
A setting's flags are added to BASE (the first defaults), so a later change of pretrain's
defaults does not change what a name means. Two settings at a time, one thread each; finished
steps are reused. One JSON line per setting and seed goes to --log; `--table` prints the
markdown table of a log.

    python benchmarks/lm_settings.py --log runs/settings.jsonl "base=" "wd=--wd 0.1"
    python benchmarks/lm_settings.py --log runs/settings.jsonl --table
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
BASE = (
    "--cell lstm --layers 2 --hidden 128 --emb-size 64 --bs 64 --bptt 70 --epochs 10 --lr 3e-3 "
    "--wd 0.01 --emb-drop 0 --input-drop 0 --hidden-drop 0 --weight-drop 0 --out-drop 0 "
    "--alpha 0 --beta 0 --layout contiguous --random-bptt"
)

# Shorthands in the table (docs/accuracy.md): AWD-LSTM-style regularisation, light and medium.
SHORT = {
    "--emb-drop 0.05 --input-drop 0.25 --hidden-drop 0.15 --weight-drop 0.2 --out-drop 0.1 "
    "--alpha 2 --beta 1": "L",
    "--emb-drop 0.1 --input-drop 0.4 --hidden-drop 0.25 --weight-drop 0.3 --out-drop 0.2 "
    "--alpha 2 --beta 1": "M",
}


def sh(cmd: list[str], log: Path) -> tuple[str, float]:
    """Run cmd (or reuse LOG.json from the same cmd): (stdout, CPU seconds). With one thread,
    CPU seconds are close to the wall time on an idle core, whatever else the machine runs."""
    record = log.with_suffix(".json")
    if record.is_file():
        done = json.loads(record.read_text())
        if done["cmd"] == cmd:
            return done["out"], done["cpu"]
    err_path = log.with_suffix(".err")
    with log.with_suffix(".out").open("w+") as out, err_path.open("w") as err:
        proc = subprocess.Popen(cmd, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(cmd)}: {err_path.read_text()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    record.write_text(json.dumps({"cmd": cmd, "out": text, "cpu": cpu}))
    return text, cpu


def train(out: Path, flags: str, seed: int, holdout: float | None) -> dict:
    cmd = ["seqlab", "pretrain", "human-numbers", "--out", str(out), "--seed", str(seed)]
    cmd += shlex.split(BASE) + shlex.split(flags)
    cmd += ["--holdout", str(holdout)] if holdout else []
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _, cpu = sh(cmd, out / "pretrain")
    return {"cpu": cpu, "wall": time.perf_counter() - start}


def evaluate(run: Path, split: str, bs: int, cache_from: Path) -> dict:
    cmd = ["seqlab", "evaluate", str(run), "--split", split, "--bs", str(bs), "--json"]
    cmd += ["--cache", "--cache-from", str(cache_from)]
    out, _ = sh(cmd, run / f"evaluate-{split}-bs{bs}")
    return json.loads(out)


def setting(name: str, flags: str, seed: int, holdout: float, root: Path) -> dict:
    held_dir, full_dir = root / f"{name}-h-s{seed}", root / f"{name}-v-s{seed}"
    result = {"name": name, "flags": flags, "seed": seed, "holdout": holdout}
    try:
        result["held_train"] = train(held_dir, flags, seed, holdout)
        result["valid_train"] = train(full_dir, flags, seed, None)
        for bs in (64, 1):
            sh(["seqlab", "tune-cache", str(held_dir), "--bs", str(bs)], held_dir / f"tune{bs}")
            tuned = held_dir / f"cache-bs{bs}.json"
            if (held_dir / "cache.json").is_file():
                (held_dir / "cache.json").replace(tuned)
            for split, run in (("held", held_dir), ("valid", full_dir)):
                got = evaluate(run, "holdout" if split == "held" else "valid", bs, tuned)
                result[f"{split}_bs{bs}"] = got["model"]["accuracy"]
                result[f"{split}_bs{bs}_cache"] = got["model+cache"]["accuracy"]
            result[f"cache_bs{bs}"] = got["cache"]
    except RuntimeError as e:
        result["error"] = str(e)
    return result


COLUMNS = [
    ("held_bs64", "held-out"),
    ("held_bs64_cache", "held-out +cache"),
    ("valid_bs64", "**valid**"),
    ("valid_bs64_cache", "valid +cache"),
    ("valid_bs1", "valid, 1 stream"),
    ("valid_bs1_cache", "valid +cache, 1 stream"),
]


def table(log: Path) -> str:
    """Markdown: one row per setting (mean over its seeds, ± sd when there are several)."""
    runs: dict[str, list[dict]] = {}
    for line in log.read_text().splitlines():
        r = json.loads(line)
        if "error" not in r:
            runs.setdefault(r["name"], []).append(r)
    head = ["setting", "flags (added to the first defaults)", *(c for _, c in COLUMNS), "CPU s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, rs in runs.items():
        flags = rs[0]["flags"]
        for long, short in SHORT.items():
            flags = flags.replace(long, short)
        cells = [name, f"`{flags}`" if flags else "(none)"]
        for key, _ in COLUMNS:
            values = [r[key] for r in rs]
            sd = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.3f}{sd}")
        cells.append(f"{statistics.mean(r['valid_train']['cpu'] for r in rs):.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("settings", nargs="*", help="NAME=FLAGS")
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--root", type=Path, default=Path("/tmp/exp"))
    ap.add_argument("--holdout", type=float, default=0.15, help="held-out tail of train")
    ap.add_argument("--seeds", default="42")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--table", action="store_true", help="print the log as a markdown table")
    a = ap.parse_args()
    if a.table:
        print(table(a.log))
        return
    jobs = [
        (name, flags, int(seed))
        for name, _, flags in (s.partition("=") for s in a.settings)
        for seed in a.seeds.split(",")
    ]
    with ThreadPoolExecutor(a.jobs) as pool:
        for result in pool.map(lambda j: setting(*j, a.holdout, a.root), jobs):
            line = json.dumps(result)
            print(line, flush=True)
            with a.log.open("a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
