"""Scores of a classifier: accuracy, macro-F1, how far its probabilities can be trusted
(calibration), scikit-learn's report, a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, f1_score, log_loss

from seqlab.train.plot import plot_confusion


def scores(true: list[int], pred: list[int]) -> dict[str, float]:
    """accuracy, and the F1 averaged over classes (each class counts the same, however rare)."""
    accuracy = float(np.mean(np.array(true) == np.array(pred))) if true else 0.0
    return {
        "accuracy": accuracy,
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
    }


def calibration(true: list[int], probs: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Whether the probabilities mean what they say: the log loss (cross-entropy of the true
    class), the mean probability of the predicted label (confidence), and the expected
    calibration error (Guo et al. 2017): the texts binned by confidence in `bins` equal
    steps, the gap between each bin's accuracy and mean confidence, weighted by its share.
    A calibrated classifier that says 0.7 is right 7 times in 10: ECE near 0."""
    y = np.asarray(true)
    conf, right = probs.max(1), probs.argmax(1) == y
    bin_of = np.minimum((conf * bins).astype(int), bins - 1)  # 1.0 falls in the top bin
    ece = sum(
        abs(right[bin_of == b].mean() - conf[bin_of == b].mean()) * np.mean(bin_of == b)
        for b in np.unique(bin_of)
    )
    labels = list(range(probs.shape[1]))
    return {
        "log_loss": float(log_loss(y, probs, labels=labels)),
        "confidence": float(conf.mean()),
        "ece": float(ece),
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
