"""`seqlab pretrain CORPUS`: train a stateful language model with truncated BPTT.

The command only reads the command line: its options come from PretrainSettings (defaults,
help and ranges in one place), the data from seqlab_lm.data, the training from
seqlab_lm.training. A run is fully described by its config.json, so `--resume RUN_DIR`
rebuilds the same model and data and continues.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import click

from seqlab import Interrupted, distributed
from seqlab.options import (
    UserError,
    default_run_dir,
    device_option,
    layout_option,
    options_from,
    out_option,
    resume_option,
    seed_option,
    user_errors,
    writable_dir,
)
from seqlab_lm import presets, textdata
from seqlab_lm.data import corpus_of
from seqlab_lm.settings import PretrainSettings
from seqlab_lm.training import run, saved_config

SETTINGS = {f.name for f in fields(PretrainSettings)}


def new_config(corpus: tuple[str, ...], model: str | None, text: dict, opts: dict) -> dict:
    """The config of a new run: the level's defaults, then the preset's settings, then the
    flags given on the command line; and the corpus, read or tokenized now."""
    given = presets.given_on_command_line(click.get_current_context())
    settings = PretrainSettings.for_level(opts["level"])
    name, text_config = textdata.resolve(corpus, text, given, settings.level)
    preset = presets.find(name, model) if model else None
    if preset is not None:
        settings = presets.apply(preset, settings)
    settings = replace(settings, **{k: v for k, v in opts.items() if k in given & SETTINGS})
    source: dict[str, Any] = {"corpus": name, "level": settings.level, "text": text_config}
    vocab = corpus_of(source).vocab
    config = settings.to_config(name, len(vocab), vocab.pad_idx)
    if model and preset is not None:
        presets.configure(config, model, preset)
    if text_config:
        config["text"] = text_config
    return config


def run_name(config: dict) -> str:
    """CORPUS[-MODEL][-char][-bwd]: what the default run directory is called."""
    parts = [config["corpus"], config.get("model"), config.get("level")]
    parts.append("bwd" if config["encoder"].get("backward") else None)
    return "-".join(p for p in parts if p)


@click.command()
@click.argument("corpus", nargs=-1)
@click.option(
    "--model",
    default=None,
    help="A named preset of CORPUS, e.g. human-numbers' model0..model5 (fastai lesson 7's "
    "models): it sets every option you do not give. `seqlab lesson CORPUS --help` "
    "lists them.",
)
@options_from(PretrainSettings)
@layout_option
# by hand: the pair of words reads better than the generated --random-bptt/--no-random-bptt
@click.option(
    "--random-bptt/--fixed-bptt",
    default=PretrainSettings.random_bptt,
    show_default=True,
    help="Vary the training sequence length per batch (AWD-LSTM).",
)
@seed_option("Random seed (weights, shuffling, dropout).")
@device_option
@out_option("CORPUS")
@resume_option
@textdata.options
@user_errors
def pretrain(corpus, resume, out, model, **opts):
    """Pretrain a language model on CORPUS: a registered corpus (see `seqlab plugins`), or
    PATH...: plain-text files and directories (UTF-8), tokenized once into a cache.

    Prints a table of epochs and writes a run directory: config.json, metrics.csv,
    curves.png, and the checkpoints best.* and last.* (safetensors + JSON).
    Ctrl-C saves `last`; `--resume RUN_DIR` continues exactly where it stopped.

    \b
    Example:
      seqlab pretrain human-numbers
      seqlab pretrain human-numbers --cell gru --layers 2 --epochs 5
      seqlab pretrain human-numbers --backward
      seqlab pretrain human-numbers --model model3 --epochs 5
      seqlab pretrain corpus/ --valid valid.txt --max-vocab 30000
      seqlab pretrain corpus/ --level char      (a character LM: docs/char-lm.md)
      torchrun --nproc_per_node 2 -m seqlab pretrain human-numbers   (docs/scale.md)
    """
    text = textdata.pop(opts)
    distributed.setup()  # under torchrun: join the other ranks; only rank 0 prints and writes
    if resume is not None:
        config, run_dir = saved_config(resume), writable_dir(resume, "--resume")
    elif not corpus:
        raise UserError("give a CORPUS to pretrain on (e.g. human-numbers), or --resume RUN_DIR")
    else:
        config = new_config(corpus, model, text, opts)
        default = distributed.all_gather([str(default_run_dir(run_name(config)))])[0]  # rank 0's
        run_dir = writable_dir(out or Path(default))
    echo = click.echo if distributed.is_main() else (lambda *a, **k: None)
    echo(f"run directory: {run_dir}", err=True)
    try:
        history = run(config, run_dir, resume=resume is not None)
    except Interrupted as e:
        echo(str(e), err=True)
        raise SystemExit(130) from None
    best = min(history, key=lambda r: r["valid_loss"])
    echo(
        f"best valid_loss {best['valid_loss']:.4f} at epoch {int(best['epoch'])}; "
        f"checkpoints in {run_dir}",
        err=True,
    )
