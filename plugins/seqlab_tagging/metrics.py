"""Tagging metrics: token accuracy; span P/R/F1 for BIO/BIOES tags; a per-tag report.

Span scores use seqeval in its default mode, which is the conlleval script's: a span starts at
B- (or S-), or at an I- whose type differs from the previous tag's, so a stray I- counts as a
span, as conlleval counts it (the strict mode would drop it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPAN_TAG = re.compile(r"^(O|[BIES]-.+)$")


def span_scheme(tags: Sequence[str]) -> str | None:
    """The span scheme, "BIOES" or "BIO", when every tag is O or B-/I-/E-/S- + a type and
    some tag starts a span; None for other tag sets (POS tags, roles): accuracy only."""
    names = set(tags)
    if not names or not all(_SPAN_TAG.match(t) for t in names):
        return None
    if not any(t[:2] in ("B-", "S-") for t in names):
        return None
    return "BIOES" if any(t[:2] in ("E-", "S-") for t in names) else "BIO"


def token_accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    pairs = [(g, p) for gs, ps in zip(gold, pred, strict=True) for g, p in zip(gs, ps, strict=True)]
    return sum(g == p for g, p in pairs) / max(len(pairs), 1)


def span_scores(gold, pred) -> dict[str, float]:
    """Span-level micro precision, recall and F1 (conlleval's counting)."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    gold, pred = [list(s) for s in gold], [list(s) for s in pred]
    return {
        "f1": f1_score(gold, pred, zero_division=0),
        "precision": precision_score(gold, pred, zero_division=0),
        "recall": recall_score(gold, pred, zero_division=0),
    }


def per_type(gold, pred) -> dict[str, dict[str, float]]:
    """Per entity type: precision, recall, f1 and support (gold spans), seqeval's counting."""
    from seqeval.metrics import classification_report as span_report

    table = span_report(
        [list(s) for s in gold], [list(s) for s in pred], output_dict=True, zero_division=0
    )
    return {
        t: {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
        for t, row in table.items()
        if not t.endswith(" avg")
    }


def scores(gold, pred, scheme: str | None) -> dict[str, float]:
    """The epoch metrics: span F1 first (the headline) for span schemes, else accuracy."""
    acc = {"accuracy": token_accuracy(gold, pred)}
    return {**span_scores(gold, pred), **acc} if scheme else acc


def report(gold, pred, scheme: str | None = None) -> str:
    """scikit-learn's per-tag precision/recall/F1 over tokens, plus seqeval's per-type span
    report for span schemes."""
    from sklearn.metrics import classification_report

    flat_g = [t for s in gold for t in s]
    flat_p = [t for s in pred for t in s]
    labels = sorted(set(flat_g) | set(flat_p))
    text = "per tag (tokens):\n" + classification_report(
        flat_g, flat_p, labels=labels, digits=4, zero_division=0
    )
    if scheme:
        from seqeval.metrics import classification_report as span_report

        text += "\nper type (spans, conlleval counting):\n" + span_report(
            [list(s) for s in gold], [list(s) for s in pred], digits=4, zero_division=0
        )
    return text


def confusion_png(gold, pred, path, title: str) -> None:
    """Per tag, over tokens: rows the true tag, columns the predicted one (as the classifier's)."""
    from sklearn.metrics import confusion_matrix

    from seqlab.train.plot import plot_confusion

    flat_g = [t for s in gold for t in s]
    flat_p = [t for s in pred for t in s]
    labels = sorted(set(flat_g) | set(flat_p))
    plot_confusion(confusion_matrix(flat_g, flat_p, labels=labels), labels, path, title)
