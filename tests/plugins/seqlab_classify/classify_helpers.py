"""Tiny settings, labelled files and commands shared by the classifier tests."""

from __future__ import annotations

import random

from click.testing import CliRunner

from seqlab.cli.main import cli

TINY_LM = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "4", "--bptt", "8"]
TINY_FT = ["--epochs", "2", "--bs", "8", "--lin", "8"]
WORDS = {"pos": "good great fine nice", "neg": "bad awful poor sad"}


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def labelled_csv(path, n, seed, skew=1):
    """Texts of 4 words, mostly of the label's sentiment; `skew`: pos examples per neg one."""
    rng = random.Random(seed)
    rows = ["text,label"]
    for i in range(n):
        label = "neg" if i % (skew + 1) == 0 else "pos"
        words = rng.choices(WORDS[label].split(), k=4)
        rows.append(f"{' '.join(words)} movie,{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def finetune(data, out, *args):
    result = invoke(
        "finetune", "classify", "--train", data["train"], "--valid", data["valid"],
        *TINY_FT, *args, "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out
