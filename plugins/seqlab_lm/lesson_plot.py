"""The lesson's bar chart: reference accuracy beside seqlab's mean ± sd, one pair per model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen needed; set before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402


def plot_lesson(results, source: str, path: Path) -> None:
    """`results`: objects with .model, .reference (or None), .mean and .sd."""
    xs = range(len(results))
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(results)), 4))
    refs = [r.reference if r.reference is not None else 0.0 for r in results]
    ax.bar([x - width / 2 for x in xs], refs, width, label=source, color="tab:gray")
    ax.bar(
        [x + width / 2 for x in xs],
        [r.mean for r in results],
        width,
        yerr=[r.sd for r in results],
        capsize=4,
        label="seqlab (mean ± sd)",
        color="tab:blue",
    )
    ax.set_xticks(list(xs), [r.model for r in results])
    ax.set(ylabel="final valid accuracy", ylim=(0, 1), title="accuracy by model")
    ax.legend(loc="upper left")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
