"""Families `threads` and `long-sentences`: options and inputs past what the machine or the
model can take must be refused in one line naming the option (or file:line and the option
that raises the bound), and a long input taken on purpose must train in linear time."""

from __future__ import annotations

import os
import random
import shutil

from faults.fixtures import Fixtures
from faults.harness import Tally, invoke, judge, run_process


def fam_threads(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """--threads and SEQLAB_THREADS far past the cores (100,000 once segfaulted torch)."""
    clf = fx.get("clf")
    many = [100_000, 10**9] + [rng.randint(4 * (os.cpu_count() or 1) + 1, 10**6) for _ in range(n)]
    for k in many[: 2 if fx.quick else None]:
        result = invoke("predict", clf, "--text", "good movie", "--threads", k)
        t.add(judge(result, "at most"), f"--threads {k}", result.output[-300:])
        result = invoke("predict", clf, "--text", "good movie", env={"SEQLAB_THREADS": str(k)})
        t.add(judge(result, "SEQLAB_THREADS"), f"SEQLAB_THREADS={k}", result.output[-300:])
    for bad in ("abc", "-1", "0"):
        result = invoke("predict", clf, "--text", "good movie", env={"SEQLAB_THREADS": bad})
        t.add(judge(result, "SEQLAB_THREADS"), f"SEQLAB_THREADS={bad}", result.output[-300:])


def fam_long_sentences(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """One sentence of thousands of words among the training sentences: refused by default
    (file:line, --max-len); with --max-len raised, trained well within the time limit."""
    d = fx.root / "long-sentences"
    d.mkdir(exist_ok=True)
    data = fx.get("data")
    sizes = [10_000] if fx.quick else [2_000, 10_000] + [rng.randint(1_001, 20_000)]
    for size in sizes:
        train = d / f"train-{size}.conll"
        head = (data / "train.conll").read_text().rstrip("\n") + "\n\n"
        line = head.count("\n") + 1
        train.write_text(head + "".join(f"w{i % 50}\tO\n" for i in range(size)) + "\n")
        args = ["finetune", "tag", "--train", train, "--valid", data / "valid.conll"]
        args += ["--epochs", "1", "--quiet"]
        result = invoke(*args, "--out", d / f"refused-{size}")
        says = f"{train.name}:{line}: a sentence of {size:,} words"
        outcome = judge(result, says)
        if outcome == "one-line" and "--max-len" not in result.output:
            outcome = "wrong"  # it must name the option that raises the bound
        t.add(outcome, f"a {size:,}-word sentence", result.output[-300:])
        result = run_process(*args, "--max-len", size, "--out", d / f"taken-{size}", timeout=120)
        t.add(judge(result, None), f"a {size:,}-word sentence, --max-len {size}",
              result.output[-300:])  # fmt: skip
        shutil.rmtree(d / f"taken-{size}", ignore_errors=True)
