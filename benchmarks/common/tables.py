"""Figures over seeds as the tables print them, a table's markdown and JSON written side by
side, and the seeded held-out cut every bench chooses its checkpoints on."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path


def mean_sd(values: list[float], digits: int, sep: bool = False) -> str:
    f = f"{{:,.{digits}f}}" if sep else f"{{:.{digits}f}}"
    if len(values) == 1:
        return f.format(values[0])
    return f"{f.format(statistics.mean(values))} ± {f.format(statistics.stdev(values))}"


def wps(seeds: list[dict]) -> str:
    """The seeds' mean predict rate (key predict_wps), '—' where none could be timed."""
    values = [s["predict_wps"] for s in seeds if s["predict_wps"] is not None]
    return f"{statistics.mean(values):,.0f}" if values else "—"


def save(out: Path, markdown: str, raw: dict) -> None:
    """The table to OUT, everything measured to OUT with .json."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")


def markdown(head: list[str], rows: list) -> str:
    """A markdown table of str cells."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def hold_out(rows: list, share: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """A seeded shuffle of rows cut into (train, held-out): the held-out part, `share` of the
    rows, is where a bench chooses checkpoints, never the test file."""
    rows = rows[:]
    random.Random(seed).shuffle(rows)
    n = int(len(rows) * share + 1e-9)
    return rows[n:], rows[:n]
