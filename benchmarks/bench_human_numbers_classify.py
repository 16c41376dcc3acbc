"""The human-numbers classification demo: pretrained vs from scratch, mean of 3 seeds.

Datasets (plugin seqlab_human_numbers): human-numbers-parity (even/odd) and human-numbers-mod3
(n mod 3), 500 numbers from 1..8,000 (450 train, 50 held out for the best checkpoint), tested
on all of 8,001..9,999. The LM is `seqlab pretrain human-numbers` with small settings (it never
sees 8,001..9,999 either). Every step is the `seqlab` command a user would type.

    OMP_NUM_THREADS=1 python benchmarks/bench_human_numbers_classify.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from common.proc import seqlab_wall
from common.tables import mean_sd


def seqlab(*args) -> float:
    return seqlab_wall(*args)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--lm-epochs", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.work or Path(tempfile.mkdtemp(prefix="hn-classify-"))
    lm_seconds = seqlab(
        "pretrain", "human-numbers", "--epochs", args.lm_epochs, "--out", work / "lm"
    )
    lm = json.loads((work / "lm" / "best.json").read_text())["metrics"]
    print(
        f"LM: {args.lm_epochs} epochs in {lm_seconds:.0f} s, valid accuracy "
        f"{lm['accuracy']:.3f}; runs in {work}",
        flush=True,
    )
    rows = []
    for task in ("parity", "mod3"):
        for name, extra in (("pretrained", []), ("from scratch", ["--from-scratch"])):
            acc, f1, secs = [], [], []
            for seed in range(1, args.seeds + 1):
                out = work / f"{task}-{'scratch' if extra else 'pretrained'}-{seed}"
                secs.append(
                    seqlab(
                        "finetune",
                        "classify",
                        f"human-numbers-{task}",
                        "--encoder",
                        work / "lm",
                        *extra,
                        "--seed",
                        seed,
                        "--out",
                        out,
                    )
                )
                r = json.loads((out / "scores.json").read_text())["metrics"]
                acc.append(r["accuracy"])
                f1.append(r["macro_f1"])
            rows.append((task, name, mean_sd(acc, 3), mean_sd(f1, 3), statistics.mean(secs)))
            print(f"  {task} {name}: accuracy {mean_sd(acc, 3)}", flush=True)
    print("\n| dataset | encoder | test accuracy | test macro-F1 | seconds per run |")
    print("|---|---|---|---|---|")
    for task, name, acc, f1, secs in rows:
        print(f"| human-numbers-{task} | {name} | {acc} | {f1} | {secs:.0f} |")
    print(f"\n(chance: parity 0.500, mod3 0.334; LM pretraining took {lm_seconds:.0f} s)")


if __name__ == "__main__":
    main()
