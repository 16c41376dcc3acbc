"""Tagging metrics: scheme detection, conlleval span counting, accuracy, per-tag report."""

import pytest

from seqlab_tagging.metrics import report, scores, span_scheme, token_accuracy


@pytest.mark.parametrize(
    "tags, scheme",
    [
        (["O", "B-PER", "I-PER"], "BIO"),
        (["O", "B-PER", "E-PER", "S-LOC"], "BIOES"),
        (["NOUN", "VERB"], None),
        (["O", "I-PER"], None),  # nothing starts a span: not a span tag set
        (["O", "B-"], None),
        (["THOUSANDS", "SEP"], None),
    ],
)
def test_span_scheme(tags, scheme):
    assert span_scheme(tags) == scheme


def test_spans_counted_as_conlleval_counts_them():
    """A span that starts with I- after O still counts (conlleval), so PER is found."""
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-ORG"]]
    got = scores(gold, pred, "BIO")
    assert list(got) == ["f1", "precision", "recall", "accuracy"]
    assert got["precision"] == pytest.approx(0.5)
    assert got["recall"] == pytest.approx(0.5)
    assert got["f1"] == pytest.approx(0.5)
    assert got["accuracy"] == pytest.approx(0.5)


def test_bioes_spans():
    gold = [["S-LOC", "O", "B-PER", "E-PER"], ["B-ORG", "I-ORG", "E-ORG"]]
    pred = [["S-LOC", "O", "B-PER", "E-PER"], ["B-ORG", "E-ORG", "O"]]
    got = scores(gold, pred, "BIOES")
    assert got["precision"] == pytest.approx(2 / 3)
    assert got["recall"] == pytest.approx(2 / 3)


def test_accuracy_and_report():
    gold, pred = [["A", "B"], ["A"]], [["A", "A"], ["A"]]
    assert token_accuracy(gold, pred) == pytest.approx(2 / 3)
    assert scores(gold, pred, None) == {"accuracy": pytest.approx(2 / 3)}
    text = report(gold, pred)
    assert "A" in text and "B" in text and "accuracy" in text
    assert "spans" not in text
    assert "PER" in report([["B-PER"]], [["B-PER"]], "BIO").split("spans")[1]
