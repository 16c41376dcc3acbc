"""The options the LM commands share (evaluate, tune-cache, generate): which run, which of its
checkpoints, how many rows, whose cache settings. A plain module, so no command imports
another command's module for an option."""

from __future__ import annotations

from pathlib import Path

import click

RUN = click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path, file_okay=False))

CHECKPOINT = click.option(
    "--checkpoint",
    type=click.Choice(["last", "best"]),
    default="last",
    show_default=True,
    help="Which checkpoint of RUN. `best` was picked by its validation loss, so on a run "
    "validated on valid it has seen valid; `last` has not.",
)

BS = click.option(
    "--bs",
    type=click.IntRange(min=1),
    default=None,
    help="Rows read in parallel [default: the run's bs, as in its metrics.csv]. "
    "Each row starts with an empty state and cache; --bs 1 reads one stream.",
)

CACHE_FROM = click.option(
    "--cache-from",
    type=click.Path(path_type=Path),
    default=None,
    help="Take the cache settings from this run (or cache.json) instead of RUN's own, e.g. "
    "a --holdout run tuned with `seqlab tune-cache`.",
)
