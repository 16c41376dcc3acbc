"""`seqlab pretrain CORPUS`: train a stateful language model with truncated BPTT.

The command only reads the command line: its options come from PretrainSettings (defaults,
help and ranges in one place), the data from seqlab_lm.data, the training from
seqlab_lm.training. A run is fully described by its config.json, so `--resume RUN_DIR`
rebuilds the same model and data and continues.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqlab import Interrupted
from seqlab.cli.options import (
    UserError,
    check_out,
    check_resumable,
    default_run_dir,
    device_option,
    finished,
    is_given,
    layout_option,
    locked_run,
    lr_find_dir,
    lr_find_option,
    options_from,
    out_option,
    overwrite_option,
    quiet_option,
    refuse_with_resume,
    report_lr_find,
    resume_epochs,
    resume_option,
    seed_option,
    threads_option,
    user_errors,
)
from seqlab.data.files import atomic_write
from seqlab.train import distributed
from seqlab.train.runlog import RunLog
from seqlab_lm import presets, textdata
from seqlab_lm.api import config_for, run_name
from seqlab_lm.settings import PretrainSettings
from seqlab_lm.training import find_lr, run, saved_config


def new_config(corpus: tuple[str, ...], model: str | None, text: dict, opts: dict) -> dict:
    """The config of a new run: the level's defaults, then the preset's settings, then the
    flags given on the command line; and the corpus, read or tokenized now."""
    given = presets.given_on_command_line(click.get_current_context())
    return config_for(corpus, model, text, opts, given)


@click.command()
@click.argument("corpus", nargs=-1)
@click.option(
    "--model",
    default=None,
    help="A named preset of CORPUS, e.g. human-numbers' model0..model5 (fastai lesson 7's "
    "models): it sets every option you do not give. `seqlab lesson CORPUS --help` "
    "lists them.",
)
@click.option(
    "--init",
    type=click.Path(path_type=Path),
    default=None,
    metavar="RUN",
    help="Continue from this pretrained LM (a run directory or checkpoint of the same level "
    "and direction, or `english`: the shipped character LM, whose level the run takes): "
    "ULMFiT's (and Flair's) LM fine-tuning on your text. Its architecture is kept; "
    "new words join its vocab at the mean embedding; lower layers learn at lr/2.6 per group.",
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
@overwrite_option
@resume_option
@textdata.options
@threads_option
@quiet_option
@lr_find_option
@user_errors
def pretrain(corpus, resume, out, overwrite, model, quiet, lr_find, **opts):
    """Pretrain a language model on CORPUS: a registered corpus (see `seqlab plugins`), or
    PATH...: plain-text files and directories (UTF-8), tokenized once into a cache.

    Prints a table of epochs and writes a run directory: config.json, metrics.csv,
    curves.png, and the checkpoints best.* and last.* (safetensors + JSON).
    Ctrl-C (or SIGTERM) stops after the batch in training and saves `last`;
    `--resume RUN_DIR` continues exactly where it stopped (`--epochs N` there trains on).
    A non-empty --out is refused unless --overwrite.

    \b
    Example:
      seqlab pretrain human-numbers
      seqlab pretrain human-numbers --cell gru --layers 2 --epochs 5
      seqlab pretrain human-numbers --backward
      seqlab pretrain human-numbers --model model3 --epochs 5
      seqlab pretrain corpus/ --valid valid.txt --max-vocab 30000
      seqlab pretrain corpus/ --level char      (a character LM: docs/char-lm.md)
      seqlab pretrain train.csv --text-col text --init runs/general --epochs 10
                                                (ULMFiT stage (b): docs/classify.md)
      seqlab pretrain human-numbers --lr-find   (suggests --lr; trains nothing)
      torchrun --nproc_per_node 2 -m seqlab pretrain human-numbers   (docs/scale.md)
    """
    text = {**textdata.pop(opts), "quiet": quiet}
    distributed.setup()  # under torchrun: join the other ranks; only rank 0 prints and writes
    if resume is not None and lr_find:
        raise UserError("--lr-find starts from the settings given, not a run: drop --resume")
    if resume is not None:
        refuse_with_resume(resume)
        check_resumable(resume)
        config, run_dir = saved_config(resume), resume
        saved = config["train"]["epochs"]
        config["train"]["epochs"] = resume_epochs(
            resume, saved, opts["epochs"] if is_given("epochs") else None
        )
        if finished(resume, config["train"]["epochs"], "seqlab pretrain"):
            return
    elif not corpus:
        raise UserError("give a CORPUS to pretrain on (e.g. human-numbers), or --resume RUN_DIR")
    elif lr_find:
        config = new_config(corpus, model, text, opts)
        report_lr_find(find_lr(config), lr_find_dir(out, run_name(config)), quiet)
        return
    else:
        reading = {"--init": [opts["init"]]} if opts.get("init") else {}
        if out is not None:  # before the corpus is read: a refused --out costs nothing
            check_out(out, overwrite, reading)
        config = new_config(corpus, model, text, opts)
        default = distributed.all_gather([str(default_run_dir(run_name(config)))])[0]  # rank 0's
        run_dir = check_out(out or Path(default), overwrite, reading)
    echo = click.echo if distributed.is_main() else (lambda *a, **k: None)
    if not quiet:
        echo(f"run directory: {run_dir}", err=True)
    with locked_run(run_dir, "--resume" if resume else "--out", overwrite):
        if resume is not None and config["train"]["epochs"] != saved and distributed.is_main():
            atomic_write(run_dir / "config.json", json.dumps(config, indent=1))  # trains on
        try:
            history = run(config, run_dir, resume=resume is not None, log=RunLog(quiet=quiet))
        except Interrupted as e:
            echo(str(e), err=True)
            raise SystemExit(130) from None
    best = min(history, key=lambda r: r["valid_loss"])
    echo(  # the summary, on stdout; which checkpoint each command reads, since they differ
        f"best valid_loss {best['valid_loss']:.4f} at epoch {int(best['epoch'])} (last epoch "
        f"{history[-1]['valid_loss']:.4f}); checkpoints in {run_dir}: best (fine-tuning and "
        f"`seqlab predict` read it) and last (`evaluate` and `generate` do: best was chosen "
        f"on valid; --checkpoint picks)"
    )
