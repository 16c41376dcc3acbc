"""human-numbers-roles: forward vs forward+backward encoders, pretrained vs from scratch.

Each word of the human-numbers stream is tagged with its role (THOUSANDS, THOUSAND, HUNDREDS,
HUNDRED, TENS, UNITS, SEP). Train: 500 numbers of 1..8,000 (100 windows of 5); test: all of
8,001..9,999. The hard words are the digit words that start a number ("one" in "one
thousand", "one hundred", "one ,"): their role is in the next word, which a forward reader
has not seen yet. Steps, each a `seqlab` command as a user would type it:

  1. seqlab pretrain human-numbers [--backward]          forward and backward LMs (seed 42)
  2. seqlab finetune tag human-numbers-roles --encoder FWD [--backward-encoder BWD]
                                                          [--from-scratch]   per seed
  3. seqlab predict RUN test.txt --json                    scored here, overall and on the
                                                           number-initial digit words

Printed: test accuracy (mean ± sd over seeds), accuracy on number-initial digit words, and
seconds per fine-tuning (wall clock of the command, process start included).

    OMP_NUM_THREADS=1 python benchmarks/bench_roles_tag.py [--seeds 3] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from common.proc import seqlab_wall
from common.tables import markdown, mean_sd

from seqlab import registry

CONFIGS = [
    ("forward", "pretrained", []),
    ("forward", "from scratch", ["--from-scratch"]),
    ("forward + backward", "pretrained", ["BWD"]),
    ("forward + backward", "from scratch", ["BWD", "--from-scratch"]),
]


seqlab = seqlab_wall


def initial_digit_positions(words: list[str]) -> list[int]:
    """Positions of a number's first word when it is a digit word (ambiguous to a forward
    reader: THOUSANDS, HUNDREDS or UNITS)."""
    digits = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    return [i for i, w in enumerate(words) if w in digits and (i == 0 or words[i - 1] == ",")]


def score(predicted: list[dict], test: list[tuple[list[str], list[str]]]) -> tuple[float, float]:
    right = total = right0 = total0 = 0
    for p, (words, tags) in zip(predicted, test, strict=True):
        assert p["words"] == words
        right += sum(a == b for a, b in zip(p["tags"], tags, strict=True))
        total += len(tags)
        for i in initial_digit_positions(words):
            right0 += p["tags"][i] == tags[i]
            total0 += 1
    return right / total, right0 / total0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.work or Path(tempfile.mkdtemp(prefix="roles-tag-"))
    work.mkdir(parents=True, exist_ok=True)
    test = registry.dataset("human-numbers-roles")["test"]
    test_txt = work / "test.txt"
    test_txt.write_text("".join(" ".join(w) + "\n" for w, _ in test), encoding="utf-8")

    lm_seconds = {}
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        if not (work / name / "best.json").is_file():
            lm_seconds[name], _ = seqlab("pretrain", "human-numbers", *extra, "--out", work / name)
            print(f"{name} LM pretrained in {lm_seconds[name]:.0f} s", flush=True)

    rows = []
    for direction, init, extra in CONFIGS:
        extra = [
            a for x in extra for a in (["--backward-encoder", work / "bwd"] if x == "BWD" else [x])
        ]
        acc, acc0, secs = [], [], []
        for seed in range(1, args.seeds + 1):
            out = work / f"{direction.replace(' + ', '-')}-{init.replace(' ', '-')}-{seed}"
            s, _ = seqlab(
                "finetune",
                "tag",
                "human-numbers-roles",
                "--encoder",
                work / "fwd",
                *extra,
                "--seed",
                seed,
                "--out",
                out,
            )
            _, predicted = seqlab("predict", out, test_txt, "--json")
            a, a0 = score([json.loads(line) for line in predicted.splitlines()], test)
            acc.append(a)
            acc0.append(a0)
            secs.append(s)
            print(
                f"  {direction}, {init}, seed {seed}: accuracy {a:.4f}, "
                f"number-initial digits {a0:.4f} ({s:.0f} s)",
                flush=True,
            )
        rows.append(
            (direction, init, mean_sd(acc, 4), mean_sd(acc0, 4), f"{statistics.mean(secs):.0f}")
        )

    head = ["encoder", "weights", "test accuracy", "number-initial digit words", "seconds"]
    print("\n" + markdown(head, rows))
    print(
        f"\n{args.seeds} seeds; test = 8,001..9,999 ({sum(len(t) for _, t in test)} words, "
        f"{sum(len(initial_digit_positions(w)) for w, _ in test)} number-initial digit words)"
    )


if __name__ == "__main__":
    main()
