"""Plots as PNGs (matplotlib, headless): training curves, the learning-rate finder, confusion
matrices.

matplotlib is imported when a plot is drawn, not when this module is: importing the
trainer should not cost a plotting library. The figure is drawn on its own Agg canvas,
without pyplot, so a caller's matplotlib backend (a notebook's, say) is left alone.
"""

from __future__ import annotations

from pathlib import Path


def plot_curves(history: list[dict], batch_losses: list[float], path: Path) -> None:
    """Left: train loss per batch and train/valid loss per epoch; right: the head's metrics."""
    fig = _figure(11, 4)
    ax_loss, ax_metric = fig.subplots(1, 2)
    epochs = [row["epoch"] + 1 for row in history]
    if batch_losses:
        per_epoch = len(batch_losses) / max(len(history), 1)
        xs = [(i + 1) / per_epoch for i in range(len(batch_losses))]
        ax_loss.plot(xs, batch_losses, color="tab:blue", alpha=0.3, lw=0.8, label="train (batch)")
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", color="tab:blue", label="train")
    ax_loss.plot(
        epochs, [r["valid_loss"] for r in history], "o-", color="tab:orange", label="valid"
    )
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_loss.legend()
    skip = {"epoch", "train_loss", "valid_loss", "time", "perplexity"}
    for name in [k for k in history[0] if k not in skip] if history else []:
        ax_metric.plot(epochs, [r[name] for r in history], "o-", label=name)
    ax_metric.set(xlabel="epoch", title="validation metrics")
    if ax_metric.lines:
        ax_metric.legend()
    _save(fig, path)


def _figure(width: float, height: float):
    """A matplotlib Figure on its own Agg canvas (no pyplot, no screen)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path, dpi: int = 100) -> None:
    """Write the PNG beside `path`, then rename it there: never half a picture."""
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi)
    tmp.replace(path)


def plot_lr_find(finding, path: Path) -> None:
    """The learning-rate finder's loss against the rate (log scale), the suggestion marked."""
    fig = _figure(6, 4)
    ax = fig.subplots()
    ax.plot(finding.lrs, finding.losses, color="tab:blue", alpha=0.3, lw=0.8, label="loss")
    ax.plot(finding.lrs, finding.smoothed, color="tab:blue", label="smoothed loss")
    ax.axvline(finding.suggestion, color="tab:red", ls="--", lw=1)
    ax.plot([], [], color="tab:red", ls="--", label=f"{finding.suggestion:.1e} ({finding.method})")
    if getattr(finding, "steepest", None) is not None:  # shown, not suggested (lr_find.py)
        ax.axvline(finding.steepest, color="tab:gray", ls=":", lw=1)
        ax.plot([], [], color="tab:gray", ls=":", label=f"{finding.steepest:.1e} (steepest)")
    ax.set_xscale("log")
    # the exploding end would flatten the rest: show up to twice the smoothed minimum
    top = max(finding.smoothed[0], 2 * min(finding.smoothed))
    ax.set_ylim(min(finding.losses) * 0.95, top * 1.05)
    ax.set(xlabel="learning rate", ylabel="loss", title="learning-rate finder")
    ax.legend()
    _save(fig, path)


def plot_confusion(counts, labels: list[str], path: Path, title: str) -> None:
    """A confusion matrix: rows the true label, columns the predicted one, each cell its count."""
    import numpy as np

    side = max(4.0, 0.45 * len(labels) + 2)
    fig = _figure(side + 1, side)
    ax = fig.subplots()
    im = ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    limit = counts.max() / 2 if counts.size else 0
    for (i, j), n in np.ndenumerate(counts):
        color = "white" if n > limit else "black"
        ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color=color)
    fig.colorbar(im, ax=ax, fraction=0.046)
    _save(fig, path, dpi=110)
