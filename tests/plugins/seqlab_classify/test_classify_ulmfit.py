"""ULMFiT's classifier details: the backward classifier, the forward + backward ensemble in
`seqlab predict`, --balance, --label-smoothing and --skip-bad-rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from classify_helpers import TINY_FT, finetune, invoke, labelled_csv
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from seqlab import Vocab, load_model
from seqlab.cli.main import cli
from seqlab_classify.data import encode
from seqlab_classify.head import ClassifierHead
from seqlab_classify.task import balanced_weights


@pytest.fixture(scope="module")
def pair(lms, data, tmp_path_factory):
    """A forward and a backward classifier."""
    tmp = tmp_path_factory.mktemp("pair")
    fwd = finetune(data, tmp / "fwd", "--encoder", lms / "fwd")
    bwd = finetune(data, tmp / "bwd", "--backward-encoder", lms / "bwd")
    return fwd, bwd


def test_backward_classifier_reads_texts_right_to_left(pair):
    _, bwd = pair
    model, vocab, meta = load_model(bwd / "best")
    assert meta["encoder"]["inner"]["backward"] is True
    assert json.loads((bwd / "config.json").read_text())["settings"]["backward_encoder"]
    (ids,) = encode(["good bad movie"], vocab, backward=True)
    assert [vocab.itos[i] for i in ids] == ["xxbos", "movie", "bad", "good"]
    assert json.loads((bwd / "scores.json").read_text())["n"] == 32


def test_ensemble_averages_the_probabilities_of_both_runs(pair):
    texts = ["good great movie", "bad sad movie", "fine awful"]
    args = [a for t in texts for a in ("--text", t)]

    def probabilities(*runs):
        result = invoke("predict", *runs, *args, "--json")
        assert result.exit_code == 0, result.output
        return [json.loads(line)["probabilities"] for line in result.output.splitlines()]

    fwd, bwd = pair
    one, other, both = probabilities(fwd), probabilities(bwd), probabilities(fwd, bwd)
    for a, b, mean in zip(one, other, both, strict=True):
        assert set(mean) == {"neg", "pos"}  # every class, as --json promises
        for label in mean:
            assert mean[label] == pytest.approx((a[label] + b[label]) / 2, abs=2e-6)


def test_ensemble_reads_a_file_after_the_runs(pair, tmp_path):
    fwd, bwd = pair
    texts = tmp_path / "new.txt"
    texts.write_text("good movie\nbad movie\n", encoding="utf-8")
    result = invoke("predict", fwd, bwd, texts)
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[2] for line in result.output.splitlines()] == [
        "good movie",
        "bad movie",
    ]


def test_direction_errors_name_the_option(lms, data, tmp_path):
    cases = [
        (["--backward-encoder", lms / "fwd"], "--backward-encoder"),
        (["--encoder", lms / "bwd"], "give it with --backward-encoder"),
    ]
    for args, message in cases:
        out = tmp_path / "run"
        result = CliRunner().invoke(
            cli, ["finetune", "classify", "--train", str(data["train"]), *map(str, args),
                  "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 2 and message in result.output, result.output
        assert not out.exists()


def test_balance_weights_rare_classes_in_the_loss(lms, tmp_path):
    skewed = {
        "train": labelled_csv(tmp_path / "train.csv", 40, 0, skew=3),
        "valid": labelled_csv(tmp_path / "valid.csv", 16, 1),
    }
    out = finetune(skewed, tmp_path / "run", "--encoder", lms / "fwd", "--balance")
    model, _, meta = load_model(out / "best")
    weights = meta["head"]["config"]["class_weights"]
    assert meta["labels"] == ["neg", "pos"]
    assert weights == pytest.approx([40 / (2 * 10), 40 / (2 * 30)])  # 10 neg, 30 pos


@given(st.lists(st.integers(0, 4), min_size=1, max_size=50))
def test_balanced_weights_give_every_class_the_same_total(labels):
    n_classes = 5
    weights = balanced_weights(labels, n_classes)
    totals = {c: weights[c] * labels.count(c) for c in set(labels)}
    assert all(t == pytest.approx(len(labels) / n_classes, rel=1e-5) for t in totals.values())


def test_label_smoothing_and_class_weights_enter_the_loss():
    class Encoder(torch.nn.Module):
        out_size = 4

    head = ClassifierHead(Encoder(), 3, lin=4, label_smoothing=0.2, class_weights=[1.0, 2.0, 3.0])
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5]])
    batch = type("B", (), {"y": torch.tensor([0, 2])})()
    expected = torch.nn.functional.cross_entropy(
        logits, batch.y, weight=torch.tensor([1.0, 2.0, 3.0]), label_smoothing=0.2
    )
    assert head.loss(logits, batch).item() == pytest.approx(expected.item())
    plain = ClassifierHead(Encoder(), 3, lin=4)
    assert plain.loss(logits, batch).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, batch.y).item()
    )
    assert head.config()["label_smoothing"] == 0.2


def test_label_smoothing_is_recorded_and_reloaded(lms, data, tmp_path):
    out = finetune(data, tmp_path / "run", "--encoder", lms / "fwd", "--label-smoothing", "0.1")
    model, _, _ = load_model(out / "best")
    assert model.head.label_smoothing == pytest.approx(0.1)


def test_skip_bad_rows_names_and_leaves_out_empty_texts(lms, data, tmp_path):
    bad = tmp_path / "train.csv"
    bad.write_text(data["train"].read_text() + ' ,pos\n"",neg\n', encoding="utf-8")
    args = ["finetune", "classify", "--encoder", str(lms / "fwd"), "--train", str(bad),
            "--valid", str(data["valid"]), *TINY_FT[:2]]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "no")])
    assert result.exit_code == 2
    assert "train.csv, lines 34, 35 (2 rows): empty text in 'text'" in result.output
    assert not (tmp_path / "no").exists()
    result = CliRunner().invoke(cli, [*args, "--skip-bad-rows", "--out", str(tmp_path / "yes")])
    assert result.exit_code == 0, result.output
    assert f"skipped 2 rows with an empty text: {bad}:34, {bad}:35" in result.output
    assert "train 32" in result.output


def test_encode_backward_is_the_reverse_after_xxbos():
    vocab = Vocab(["xxunk", "xxpad", "xxbos", "a", "b", "c"])
    (fwd,) = encode(["a b c"], vocab)
    (bwd,) = encode(["a b c"], vocab, backward=True)
    assert fwd[0] == bwd[0] == vocab.stoi["xxbos"]
    assert np.array_equal(bwd[1:], fwd[1:][::-1])
