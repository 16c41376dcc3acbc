"""Scores of a classifier: accuracy, macro-F1, scikit-learn's report, a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen needed; set before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import classification_report, confusion_matrix, f1_score  # noqa: E402


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
    side = max(4.0, 0.45 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    limit = cm.max() / 2 if cm.size else 0
    for (i, j), n in np.ndenumerate(cm):
        ax.text(
            j,
            i,
            str(n),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if n > limit else "black",
        )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
