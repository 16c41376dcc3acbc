"""Training curves as a PNG (matplotlib, headless).

matplotlib is imported when a plot is drawn, not when this module is: importing the
trainer should not cost a plotting library. The figure is drawn on its own Agg canvas,
without pyplot, so a caller's matplotlib backend (a notebook's, say) is left alone.
"""

from __future__ import annotations

from pathlib import Path


def plot_curves(history: list[dict], batch_losses: list[float], path: Path) -> None:
    """Left: train loss per batch and train/valid loss per epoch; right: the head's metrics."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    FigureCanvasAgg(fig)  # no screen needed
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
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)
