"""The fault families of benchmarks/bench_faults.py, a module each: stored files (checkpoint,
config, model-dir), inputs (options, long-lines), stops (sigint, sigkill, disk-full) and
overwrite. A family is a function (fixtures, tally, rng, n) that runs its cases and adds each
outcome to the tally; FAMILIES names them, run_families runs some, table prints the counts.
A new family is a module here and a line in FAMILIES."""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from pathlib import Path

from faults.bounds import fam_long_sentences, fam_threads
from faults.fields import fam_malformed_fields, fam_special_files
from faults.fixtures import Fixtures
from faults.harness import COLUMNS, Tally
from faults.inputs import fam_long_lines, fam_options
from faults.overwrite import fam_overwrite
from faults.stops import fam_disk_full, fam_signal
from faults.stored import fam_checkpoint, fam_config, fam_model_dir
from faults.writes import fam_circular_states, fam_output_over_input

FAMILIES: dict[str, Callable[..., None]] = {
    "checkpoint": fam_checkpoint,
    "config": fam_config,
    "model-dir": fam_model_dir,
    "options": fam_options,
    "long-lines": fam_long_lines,
    "sigint": lambda fx, t, rng, n: fam_signal(fx, t, rng, n, signal.SIGINT),
    "sigkill": lambda fx, t, rng, n: fam_signal(fx, t, rng, n, signal.SIGKILL),
    "disk-full": fam_disk_full,
    "overwrite": fam_overwrite,
    # the probe's families (issue 23)
    "threads": fam_threads,
    "long-sentences": fam_long_sentences,
    "output-over-input": fam_output_over_input,
    "malformed-fields": fam_malformed_fields,
    "special-files": fam_special_files,
    "circular-states": fam_circular_states,
}
QUICK = (
    "checkpoint",
    "config",
    "options",
    "long-lines",
    "threads",
    "output-over-input",
    "special-files",
)


def run_families(
    names: list[str], root: Path, quick: bool = False, trials: int = 10, seed: int = 0
) -> list[Tally]:
    """Run the named families (cases drawn from `seed`) in `root`; their tallies."""
    fx = Fixtures(root, quick)
    tallies = []
    n = 2 if quick else trials
    for name in names:
        tally = Tally(name)
        try:
            FAMILIES[name](fx, tally, random.Random(f"{seed}-{name}"), n)
        except RuntimeError as e:  # a fixture that could not be built
            tally.skipped = str(e).splitlines()[0][:200]
        tallies.append(tally)
    return tallies


def table(tallies: list[Tally]) -> str:
    head = ["family", "cases", *COLUMNS]
    rows = [head]
    for t in tallies:
        if t.skipped:
            rows.append([t.family, f"skipped: {t.skipped}"])
        else:
            rows.append([t.family, str(t.cases), *(str(t.counts[c]) for c in COLUMNS)])
    widths = [max(len(r[i]) for r in rows if i < len(r) and len(r) > 2) for i in range(len(head))]
    lines = []
    for r in rows:
        if len(r) == 2:
            lines.append(f"{r[0]:<{widths[0]}}  {r[1]}")
        else:
            lines.append(
                "  ".join(
                    c.rjust(w) if i else c.ljust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=False))
                )
            )
    return "\n".join(lines)
