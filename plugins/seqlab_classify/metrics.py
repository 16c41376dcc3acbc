"""Scores of a classifier: accuracy, macro-F1, scikit-learn's report, a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, f1_score

from seqlab.train.plot import plot_confusion


def scores(true: list[int], pred: list[int]) -> dict[str, float]:
    """accuracy, and the F1 averaged over classes (each class counts the same, however rare)."""
    accuracy = float(np.mean(np.array(true) == np.array(pred))) if true else 0.0
    return {
        "accuracy": accuracy,
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
    }


def report(true: list[int], pred: list[int], classes: list[str]) -> str:
    """Precision, recall, F1 and support per class (scikit-learn's classification_report)."""
    return classification_report(
        true,
        pred,
        labels=list(range(len(classes))),
        target_names=classes,
        digits=3,
        zero_division=0,
    )


def confusion_png(
    true: list[int], pred: list[int], classes: list[str], path: Path, title: str
) -> None:
    """Rows: the true class; columns: the predicted class; each cell its count."""
    cm = confusion_matrix(true, pred, labels=list(range(len(classes))))
    plot_confusion(cm, classes, path, title)
