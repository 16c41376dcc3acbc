"""The tiny LMs and labelled files the ULMFiT, character and stack tests share."""

from __future__ import annotations

import pytest
from classify_helpers import TINY_LM, invoke, labelled_csv


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    """A tiny forward and backward LM on the labelled texts (read straight from the CSV)."""
    tmp = tmp_path_factory.mktemp("lms")
    csv = labelled_csv(tmp / "text.csv", 60, 9)
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        result = invoke(
            "pretrain", csv, *extra, "--min-freq", 1, *TINY_LM, "--epochs", 1,
            "--cache-dir", tmp / "cache", "--out", tmp / name,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return tmp


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data")
    return {s: labelled_csv(tmp / f"{s}.csv", 32, seed) for s, seed in (("train", 0), ("valid", 1))}
