"""Families `options` and `long-lines`: absurd option values, and lines far past the readers'
limits, must be one-line errors (naming file and line), never a run or a traceback."""

from __future__ import annotations

import random

from faults.fixtures import TINY_LM, Fixtures
from faults.harness import Tally, invoke, refused

ABSURD_PRETRAIN = [
    ["--hidden", "1000000000"],
    ["--emb-size", "1000000000"],
    ["--layers", "10000000"],
    ["--emb-size", "-1"],
    ["--clip", "-1"],
    ["--lr", "0"],
    ["--lr", "nan"],
    ["--wd", "-1"],
    ["--epochs", str(10**12)],
    ["--epochs", "0"],
    ["--bs", "0"],
    ["--bptt", "-5"],
    ["--seed", "-1"],
    ["--pct-start", "1"],
    ["--emb-drop", "1"],
    ["--max-vocab", "0"],
]
ABSURD_CLASSIFY = [
    ["--lin", "1000000000"],
    ["--lin", "1e9"],
    ["--lr-factor", "0"],
    ["--lr-factor", "-2"],
    ["--epochs", "0"],
    ["--bs", "0"],
    ["--hidden", "1000000000"],
]


def fam_options(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    out = fx.root / "options-runs"
    cases = ABSURD_PRETRAIN if not fx.quick else ABSURD_PRETRAIN[::2]
    for opts in cases:
        args = ["pretrain", "human-numbers", *TINY_LM, "--epochs", "1", *opts]
        result = invoke(*args, "--out", out / f"p{t.cases}")
        outcome = "ok" if result.kind == "one-line" else result.kind
        if result.kind == "ok":  # trained on an absurd value: as bad as a traceback
            outcome = "traceback"
        t.add(outcome, " ".join(opts), result.output[-300:])
    d = fx.get("data")
    for opts in ABSURD_CLASSIFY if not fx.quick else ABSURD_CLASSIFY[::2]:
        args = ["finetune", "classify", "--from-scratch", "--train", d / "train.csv"]
        args += ["--valid", d / "valid.csv", "--epochs", "1", *opts]
        result = invoke(*args, "--out", out / f"c{t.cases}")
        outcome = {"one-line": "ok", "ok": "traceback"}.get(result.kind, result.kind)
        t.add(outcome, " ".join(opts), result.output[-300:])


def fam_long_lines(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """A line far past the limits, with no space: refused with file:line, quickly."""
    from seqlab.data import textfiles

    d = fx.root / "long"
    d.mkdir(exist_ok=True)
    text_limit = textfiles.MAX_TEXT_LINE
    stream_limit = textfiles.MAX_LINE
    if fx.quick:  # the same code path with a smaller limit, so the test suite stays fast
        textfiles.MAX_LINE = 1 << 20
    try:
        line = "a" * (textfiles.MAX_LINE + (1 << 20))
        words = " ".join(["one two three"] * 2000)
        corpus = d / "corpus.txt"
        corpus.write_text(f"{words}\n{line}\n{words}\n")
        args = ("pretrain", corpus, *TINY_LM, "--epochs", "1", "--cache-dir", d / "cache")
        result = invoke(*args, "--out", d / "lm")
        t.add(refused(result, "line 2"), "pretrain, a long line", result.output[-300:])
        long_text = "good " + "a" * (text_limit + 10)
        (d / "in.txt").write_text(f"good movie\n{long_text}\n")
        for run in ("clf",) if fx.quick else ("clf", "tagger"):
            result = invoke("predict", fx.get(run), d / "in.txt")
            t.add(refused(result, "line 2"), f"{run} predict FILE", result.output[-300:])
            result = invoke("predict", fx.get(run), "-", input=f"{long_text}\n")
            t.add(refused(result, "line 1"), f"{run} predict stdin", result.output[-300:])
        train = fx.get("data") / "train.csv"
        bad = d / "train.csv"
        bad.write_text(train.read_text() + f"{long_text},pos\n")
        result = invoke(
            "finetune", "classify", "--from-scratch", "--train", bad,
            "--valid", fx.get("data") / "valid.csv", "--out", d / "clf",
        )  # fmt: skip
        t.add(refused(result, "line"), "finetune classify, a long line", result.output[-300:])
    finally:
        textfiles.MAX_LINE = stream_limit
