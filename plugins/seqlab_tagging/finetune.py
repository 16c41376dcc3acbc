"""`seqlab finetune tag`: the tagging task's command (the shared skeleton does the rest).

The run dir holds config.json, metrics.csv, curves.png, best.* / last.*, report.txt (per-tag
scores of the best checkpoint on the test split, else the valid split), confusion.png (per
tag, over tokens) and scores.json.
"""

from __future__ import annotations

from pathlib import Path

import click

from seqlab.cli.finetune_command import finetune_options, run_command
from seqlab.cli.options import user_errors
from seqlab_tagging.readers import FORMATS
from seqlab_tagging.task import TAGGING, TagSettings


@click.command("tag")
@finetune_options(
    TagSettings,
    data_help="Tagged training file (instead of DATASET): CoNLL columns or CoNLL-U.",
    valid_help="Tagged validation file: the epoch table; its accuracy (span F1 for BIO/BIOES "
    "tags) picks the best checkpoint.",
    encoder_help="Run dir of a forward LM (`seqlab pretrain ...`), word- or character-level "
    "(--level char), or one of its checkpoints (best.json), or `english`: the shipped English "
    "character LM (`seqlab plugins` lists the shipped LMs). Its outputs join the tagger's own "
    "word features. Repeat to stack several.",
    repeat_encoder=True,
    scratch_help="The LMs' architecture with random weights, only the training words: the "
    "no-pretraining baseline.",
)
@click.option(
    "--backward-encoder",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Run dir of a backward LM (`seqlab pretrain ... --backward`, word- or character-"
    "level), or `english` (the shipped backward character LM); its outputs are joined to the "
    "forward ones per word. Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto",) + FORMATS[:2]),
    default="auto",
    show_default=True,
    help=TagSettings.__dataclass_fields__["fmt"].metadata["help"],
)
@user_errors
def finetune_tag(**opts):
    """Train a tagger (a tag per word: part of speech, entities, roles): its own view of
    each word (lower-cased word, shape, suffix, a character CNN) read in context by a BiLSTM,
    and, with --encoder/--backward-encoder, pretrained LMs fine-tuned under it (ULMFiT).

    The data is DATASET (a registered one, see `seqlab plugins`) or --train/--valid files:
    CoNLL columns (one word per line, blank line between sentences) or CoNLL-U. Prints the
    epoch table, then the per-tag report of the best checkpoint on --test (else --valid).
    Ctrl-C saves the last checkpoint; `--resume RUN_DIR` continues exactly there.

    \b
    Example:
      seqlab finetune tag --train train.conllu --valid dev.conllu
      seqlab finetune tag --encoder english --backward-encoder english \\
          --train train.conllu --valid dev.conllu     (the shipped English char LMs)
      seqlab pretrain my-text/ --out runs/fwd
      seqlab pretrain my-text/ --backward --out runs/bwd
      seqlab finetune tag --encoder runs/fwd --backward-encoder runs/bwd --train train.conllu \\
          --valid dev.conllu --crf
      seqlab predict runs/tag-... sentences.txt
    """
    run_command(TAGGING, opts)
