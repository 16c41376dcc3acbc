"""`seqlab pretrain CORPUS`: train a stateful language model with truncated BPTT.

A run is fully described by its config.json (corpus, data, encoder, head, training),
so `--resume RUN_DIR` rebuilds exactly the same model and data and continues.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np

from seqlab import (
    BOS,
    BPTTStream,
    EncoderConfig,
    Interrupted,
    SeqModel,
    TrainConfig,
    Trainer,
    UserError,
    distributed,
    encoder_from_config,
    registry,
    seed_everything,
    user_errors,
    writable_dir,
)
from seqlab.checkpoint import atomic_write, load_tensors
from seqlab_lm import presets, textdata
from seqlab_lm.head import LMHead

# Chosen on a held-out tail of human-numbers' train split (the last 15%, never valid), among
# the settings in docs/accuracy.md: a 2-layer GRU with AWD-LSTM regularisation (dropouts,
# AR/TAR), a tied decoder, 30 epochs. About 1.5 minutes on one CPU core.
DEFAULTS = {
    "cell": "gru",
    "layers": 2,
    "hidden": 192,
    "emb_size": 128,
    "bs": 32,
    "bptt": 70,
    "epochs": 30,
    "lr": 3e-3,
    "wd": 0.01,
    "emb_drop": 0.05,
    "input_drop": 0.25,
    "hidden_drop": 0.15,
    "weight_drop": 0.2,
    "out_drop": 0.1,
    "alpha": 2.0,
    "beta": 1.0,
}


def holdout_split(docs: list[np.ndarray], fraction: float, bos: int) -> tuple[list, list]:
    """Cut the last `fraction` of the train tokens off as a validation set, for choosing
    settings without looking at the real validation split."""
    if not 0 < fraction < 1:
        raise ValueError(f"--holdout must be between 0 and 1, got {fraction}")
    total = sum(len(d) for d in docs)
    cut = total - int(total * fraction)
    train, held, seen = [], [], 0
    for d in docs:
        if seen + len(d) <= cut:
            train.append(d)
        elif seen >= cut:
            held.append(d)
        else:
            k = cut - seen
            train.append(d[:k])
            held.append(np.concatenate([np.array([bos], dtype=d.dtype), d[k:]]))
        seen += len(d)
    return train, held


def reverse_doc(doc: np.ndarray, bos: int) -> np.ndarray:
    """The document read backwards, still starting with xxbos (a backward LM sees the
    start-of-document marker first, as the forward one does)."""
    if len(doc) and doc[0] == bos:
        return np.concatenate([doc[:1], doc[:0:-1]])
    return doc[::-1].copy()


def build_data(config: dict):
    """(train stream, valid stream, vocab) from a run config."""
    corpus = textdata.corpus(config) if "text" in config else registry.corpus(config["corpus"])
    data = config["data"]
    train_docs = corpus.split("train")
    if data.get("holdout"):
        train_docs, valid_docs = holdout_split(train_docs, data["holdout"], corpus.vocab.stoi[BOS])
    else:
        valid_docs = corpus.split("valid")
    if config["encoder"].get("backward"):  # same vocab, reversed stream (ULMFiT, Flair)
        bos = corpus.vocab.stoi[BOS]
        train_docs = [reverse_doc(d, bos) for d in train_docs]
        valid_docs = [reverse_doc(d, bos) for d in valid_docs]
    common = {"bs": data["bs"], "bptt": data["bptt"], "layout": data["layout"]}
    common.update(rank=distributed.rank(), world_size=distributed.world_size())  # torchrun
    train = BPTTStream(
        train_docs,
        random_bptt=data["random_bptt"],
        shuffle=True,
        seed=config["train"]["seed"],
        **common,
    )
    valid = BPTTStream(valid_docs, **common)
    return train, valid, corpus.vocab


def build_model(config: dict) -> SeqModel:
    encoder = encoder_from_config(config["encoder"], config.get("encoder_kind"))
    return SeqModel(encoder, LMHead(encoder, **config["head"]["config"]))


def run(config: dict, out: Path, resume: bool = False, **trainer_options) -> list[dict]:
    """Train as `config` says, in `out`; `trainer_options` go to the Trainer."""
    train_cfg = TrainConfig(**config["train"])
    seed_everything(train_cfg.seed)
    train, valid, vocab = build_data(config)
    model = build_model(config)
    meta = {
        k: config[k]
        for k in ("corpus", "model", "data", "encoder_kind", "encoder", "head")
        if k in config
    }
    meta["vocab"] = vocab.itos
    trainer = Trainer(model, train, valid, train_cfg, run_dir=out, meta=meta, **trainer_options)
    if resume:
        trainer.load_last(out)
    elif distributed.is_main():
        atomic_write(out / "config.json", json.dumps(config, indent=1))
    distributed.seed_rank(train_cfg.seed, trainer.epoch, trainer.step)  # own dropout per rank
    return trainer.fit()


def make_config(corpus: str, vocab_size: int, pad_idx: int, opts: dict) -> dict:
    encoder = EncoderConfig(
        vocab_size=vocab_size,
        hidden=opts["hidden"],
        layers=opts["layers"],
        cell=opts["cell"],
        emb_size=opts["emb_size"],
        emb_drop=opts["emb_drop"],
        input_drop=opts["input_drop"],
        hidden_drop=opts["hidden_drop"],
        weight_drop=opts["weight_drop"],
        bn=opts["bn"],
        pad_idx=pad_idx,
        backward=opts["backward"],
    )
    train = TrainConfig(
        epochs=opts["epochs"],
        lr=opts["lr"],
        wd=opts["wd"],
        pct_start=opts["pct_start"],
        clip=opts["clip"] or None,
        seed=opts["seed"],
        device=opts["device"],
    )
    for name in ("bs", "bptt"):
        if opts[name] < 1:
            raise UserError(f"--{name} must be at least 1, got {opts[name]}")
    return {
        "task": "lm",
        "corpus": corpus,
        "data": {
            "bs": opts["bs"],
            "bptt": opts["bptt"],
            "layout": opts["layout"],
            "random_bptt": opts["random_bptt"],
            "holdout": opts["holdout"],
        },
        "encoder": asdict(encoder),
        "head": {"kind": "lm", "config": {k: opts[k] for k in ("out_drop", "alpha", "beta")}},
        "train": asdict(train),
    }


D = DEFAULTS


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
    "--cell",
    type=click.Choice(["rnn", "gru", "lstm"]),
    default=D["cell"],
    show_default=True,
    help="Recurrent cell.",
)
@click.option("--layers", default=D["layers"], show_default=True, help="Stacked RNN layers.")
@click.option("--hidden", default=D["hidden"], show_default=True, help="Hidden size of each layer.")
@click.option(
    "--emb-size",
    default=D["emb_size"],
    show_default=True,
    help="Embedding size (the tied decoder's too).",
)
@click.option(
    "--bs",
    default=D["bs"],
    show_default=True,
    help="Batch size: rows of the stream read in parallel.",
)
@click.option(
    "--bptt",
    default=D["bptt"],
    show_default=True,
    help="Tokens per row per batch (truncated BPTT length).",
)
@click.option(
    "--layout",
    type=click.Choice(["contiguous", "fastai-v1"]),
    default="contiguous",
    show_default=True,
    help="How the stream is cut into rows (see DESIGN.md).",
)
@click.option(
    "--random-bptt/--fixed-bptt",
    default=True,
    show_default=True,
    help="Vary the training sequence length per batch (AWD-LSTM).",
)
@click.option(
    "--epochs", default=D["epochs"], show_default=True, help="Epochs of one-cycle training."
)
@click.option(
    "--lr", default=D["lr"], show_default=True, help="Peak learning rate of the one-cycle schedule."
)
@click.option("--wd", default=D["wd"], show_default=True, help="AdamW weight decay.")
@click.option(
    "--pct-start", default=0.25, show_default=True, help="Fraction of steps spent warming up."
)
@click.option("--clip", default=0.5, show_default=True, help="Gradient-norm clipping (0: off).")
@click.option(
    "--emb-drop", default=D["emb_drop"], show_default=True, help="Embedding dropout (whole words)."
)
@click.option(
    "--input-drop", default=D["input_drop"], show_default=True, help="Dropout on the embeddings."
)
@click.option(
    "--hidden-drop", default=D["hidden_drop"], show_default=True, help="Dropout between layers."
)
@click.option(
    "--weight-drop",
    default=D["weight_drop"],
    show_default=True,
    help="DropConnect on recurrent weights.",
)
@click.option(
    "--out-drop", default=D["out_drop"], show_default=True, help="Dropout before the decoder."
)
@click.option(
    "--alpha",
    default=D["alpha"],
    show_default=True,
    help="AR: penalty on the top layer's (dropped) outputs, AWD-LSTM uses 2.",
)
@click.option(
    "--beta",
    default=D["beta"],
    show_default=True,
    help="TAR: penalty on the change of the top layer's outputs, AWD-LSTM uses 1.",
)
@click.option(
    "--bn/--no-bn", default=False, show_default=True, help="Batch norm over output features."
)
@click.option(
    "--backward",
    is_flag=True,
    help="Train on the reversed stream (same vocab): a backward LM, for taggers "
    "that read both directions.",
)
@click.option(
    "--holdout",
    default=0.0,
    show_default=True,
    help="Validate on this fraction of the train split's tail instead of the valid split "
    "(choose settings here, never on valid).",
)
@click.option(
    "--seed", default=42, show_default=True, help="Random seed (weights, shuffling, dropout)."
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="auto takes a GPU when there is one.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run directory [default: runs/CORPUS-YYYYmmdd-HHMMSS].",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue the stopped run in this directory (its saved settings are used).",
)
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
      torchrun --nproc_per_node 2 -m seqlab pretrain human-numbers   (docs/scale.md)
    """
    text = textdata.pop(opts)
    distributed.setup()  # under torchrun: join the other ranks; only rank 0 prints and writes
    if resume is not None:
        config_path = resume / "config.json"
        if not config_path.is_file():
            raise UserError(f"--resume {resume}: no config.json there; is it a run directory?")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        load_tensors(resume / "train_state")  # fail early, with a clear message, on a broken run
        run_dir, is_resume = writable_dir(resume, "--resume"), True
    else:
        if not corpus:
            raise UserError(
                "give a CORPUS to pretrain on (e.g. human-numbers), or --resume RUN_DIR"
            )
        corpus, c, text_config = textdata.resolve(corpus, text)
        if model:
            preset = presets.find(corpus, model)
            given = presets.given_on_command_line(click.get_current_context())
            opts = presets.apply(preset, opts, given)
        config = make_config(corpus, len(c.vocab), c.vocab.pad_idx, opts)
        if model:
            presets.configure(config, model, preset)
        if text_config:
            config["text"] = text_config
        stamp = distributed.all_gather([time.strftime("%Y%m%d-%H%M%S")])[0]  # rank 0's
        name = f"{corpus}-{model}" if model else corpus
        name = f"{name}-bwd" if opts["backward"] else name
        run_dir, is_resume = writable_dir(out or Path("runs") / f"{name}-{stamp}"), False
    echo = click.echo if distributed.is_main() else (lambda *a, **k: None)
    echo(f"run directory: {run_dir}", err=True)
    try:
        history = run(config, run_dir, resume=is_resume)
    except Interrupted as e:
        echo(str(e), err=True)
        raise SystemExit(130) from None
    best = min(history, key=lambda r: r["valid_loss"])
    echo(
        f"best valid_loss {best['valid_loss']:.4f} at epoch {int(best['epoch'])}; "
        f"checkpoints in {run_dir}",
        err=True,
    )
