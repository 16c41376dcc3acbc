"""`seqlab finetune classify`: the classification task's command (the shared skeleton does
the rest). The run directory holds what every fine-tuning run does (config.json, metrics.csv,
curves.png, best.* / last.*, report.txt, scores.json) plus confusion.png.
"""

from __future__ import annotations

from pathlib import Path

import click

from seqlab.cli.finetune_command import finetune_options, run_command
from seqlab.cli.options import user_errors
from seqlab_classify.task import CLASSIFICATION, ClassifySettings


@click.command()
@finetune_options(
    ClassifySettings,
    data_help="Labelled training texts: .csv, .tsv (with a header) or .jsonl.",
    valid_help="Labelled validation texts (epoch table, best checkpoint). Default: hold out "
    "--holdout of the training texts.",
    encoder_help="A pretrained LM: a run directory of `seqlab pretrain` (its best checkpoint), "
    "or `english` (the shipped character LM), word- or character-level (a char LM's "
    "classifier reads each text as characters). "
    "Repeatable, and with --backward-encoder: several LMs of one level read each text side "
    "by side (a stack).",
    repeat_encoder=True,
    scratch_help="The baseline: the same architecture with fresh weights (the --encoder run's "
    "architecture, else an LM-style --cell/--layers/--hidden/--emb-size encoder instead of "
    "the word view).",
)
@click.option(
    "--backward-encoder",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A backward LM (`seqlab pretrain ... --backward`, or `english`); alone, the "
    "classifier reads each text right to left (ULMFiT's backward classifier: "
    "`seqlab predict FWD_RUN BWD_RUN` "
    "averages it with a forward run); with --encoder, both LMs read each text in one "
    "classifier. Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "tsv", "jsonl"]),
    default=None,
    help=ClassifySettings.__dataclass_fields__["fmt"].metadata["help"],
)
@user_errors
def classify(**opts):
    """Train a text classifier: by default its own, no LM needed (a logistic regression over
    hashed word, shape and character n-grams; --word-view adds a small BiGRU over the words);
    with --encoder, on pretrained LMs (ULMFiT).

    The n-gram channel (--ngrams, on by default) joins every classifier, with or without
    LMs; `seqlab predict RUN INPUT --explain` lists the n-grams that weighed most. The texts
    come from --train/--valid/--test files, or from a built-in DATASET
    (human-numbers-parity, human-numbers-mod3: 500 numbers for training, 8,001..9,999 to test).
    Prints the epoch table, then the best checkpoint's report on the test texts (else the
    validation texts); `seqlab predict RUN_DIR` uses the run afterwards. Ctrl-C saves the
    last checkpoint; `--resume RUN_DIR` continues exactly there.

    \b
    Examples:
      seqlab finetune classify --train train.csv --valid valid.csv --out runs/genre
      seqlab predict runs/genre new.txt --json --explain
      seqlab pretrain human-numbers --out runs/lm
      seqlab finetune classify human-numbers-parity --encoder runs/lm --out runs/parity
      seqlab finetune classify human-numbers-parity --from-scratch --out runs/parity-scratch
      seqlab finetune classify --encoder runs/lm --train train.csv --valid valid.csv
      seqlab finetune classify --backward-encoder runs/lm-bwd --train train.csv --out runs/bwd
      seqlab predict runs/fwd runs/bwd new.txt      (the two directions' probabilities averaged)
      seqlab finetune classify --encoder runs/char --backward-encoder runs/char-bwd \
          --freeze-encoder --train train.csv       (frozen char LMs, both directions, one model)
    """
    run_command(CLASSIFICATION, opts)
