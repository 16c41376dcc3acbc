"""A classifier on a character LM: it reads every text as characters, as the LM read its
documents, in training, in `seqlab predict` and through the Python facade."""

from __future__ import annotations

import json

import numpy as np
import pytest
from classify_helpers import TINY_FT, labelled_csv
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import seqlab
from seqlab import Vocab, load_model
from seqlab.cli.main import cli
from seqlab_classify.data import build_vocab, encode

TINY_CHAR_LM = ["--level", "char", "--hidden", "16", "--emb-size", "8", "--bs", "4"]
TINY_CHAR_LM += ["--bptt", "16", "--epochs", "1"]


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A forward and a backward char LM (on the labelled texts) and a classifier on each."""
    tmp = tmp_path_factory.mktemp("chars")
    files = {
        s: labelled_csv(tmp / f"{s}.csv", 32, seed) for s, seed in (("train", 0), ("valid", 1))
    }
    # a character the LMs never read: the classifiers must add it to their vocab
    files["train"].write_text(files["train"].read_text() + "naïve movie,pos\n", encoding="utf-8")
    for d, back in (("fwd", []), ("bwd", ["--backward"])):
        invoke("pretrain", files["valid"], *TINY_CHAR_LM, *back, "--cache-dir", tmp / "cache",
               "--out", tmp / f"lm-{d}")  # fmt: skip
        option = "--backward-encoder" if back else "--encoder"
        invoke("finetune", "classify", option, tmp / f"lm-{d}", "--train", files["train"],
               "--valid", files["valid"], *TINY_FT, "--out", tmp / f"clf-{d}")  # fmt: skip
    return tmp


def test_a_char_lm_classifier_reads_characters(runs):
    _, lm_vocab, _ = load_model(runs / "lm-fwd" / "best")
    model, vocab, meta = load_model(runs / "clf-fwd" / "best")
    assert meta["level"] == "char"
    assert all(len(t) == 1 for t in vocab.itos if not t.startswith("xx"))
    assert vocab.itos[: len(lm_vocab)] == lm_vocab.itos  # the LM's rows first, kept
    assert "ï" in vocab.stoi and "ï" not in lm_vocab.stoi
    (ids,) = encode(["bad movie"], vocab, level="char")
    assert [vocab.itos[i] for i in ids] == ["xxbos", *"bad movie"]
    (back,) = encode(["bad movie"], vocab, backward=True, level="char")
    assert [vocab.itos[i] for i in back] == ["xxbos", *"eivom dab"]


def test_predict_and_the_facade_agree_for_both_directions(runs):
    texts = ["good great movie", "bad sad movie"]
    for d in ("fwd", "bwd"):
        result = invoke("predict", runs / f"clf-{d}", *[a for t in texts for a in ("--text", t)],
                        "--json")  # fmt: skip
        cli_probs = [json.loads(line)["probabilities"] for line in result.output.splitlines()]
        api_probs = [p["probs"] for p in seqlab.load(runs / f"clf-{d}").predict(texts)]
        for a, b in zip(cli_probs, api_probs, strict=True):
            assert a == pytest.approx(b, abs=2e-6)


def test_a_word_and_a_char_classifier_make_an_ensemble(runs, tmp_path):
    words = CliRunner().invoke(
        cli, ["finetune", "classify", "--from-scratch", "--train", str(runs / "train.csv"),
              "--valid", str(runs / "valid.csv"), *TINY_FT, "--out", str(tmp_path / "w")],
    )  # fmt: skip
    assert words.exit_code == 0, words.output
    result = invoke("predict", runs / "clf-fwd", tmp_path / "w", "--text", "good movie", "--json")
    probs = json.loads(result.output)["probabilities"]
    one = json.loads(invoke("predict", runs / "clf-fwd", "--text", "good movie", "--json").output)
    other = json.loads(invoke("predict", tmp_path / "w", "--text", "good movie", "--json").output)
    for label, p in probs.items():
        assert p == pytest.approx(
            (one["probabilities"][label] + other["probabilities"][label]) / 2, abs=2e-6
        )


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5))
def test_char_encoding_round_trips_every_known_character(texts):
    vocab = build_vocab(texts, min_freq=1, max_vocab=10_000, level="char")
    for text, ids in zip(texts, encode(texts, vocab, level="char"), strict=True):
        assert ids[0] == vocab.bos_idx
        assert "".join(vocab.itos[i] for i in ids[1:]) == text
    unknown = Vocab(vocab.itos[:4])  # specials only: every character is xxunk
    assert np.all(encode(texts, unknown, level="char")[0][1:] == unknown.unk_idx)


def test_word_and_char_lms_in_one_classifier_are_a_one_line_error(runs, lms, tmp_path):
    result = CliRunner().invoke(
        cli, ["finetune", "classify", "--encoder", str(lms / "fwd"), "--backward-encoder",
              str(runs / "lm-bwd"), "--train", str(runs / "train.csv"), "--out",
              str(tmp_path / "run")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "word-level and --backward-encoder" in result.output
    assert "one kind of token" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
