"""`seqlab finetune classify`: a classifier on a pretrained LM encoder (ULMFiT), or from scratch.

The run directory holds what a pretraining run does (config.json, metrics.csv, curves.png,
best.* and last.* checkpoints) plus the final evaluation of the best checkpoint: report.txt
(scikit-learn's classification report), confusion.png and results.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console

from seqlab import (
    EncoderConfig,
    Interrupted,
    PaddedBatches,
    SeqModel,
    TrainConfig,
    Trainer,
    UserError,
    Vocab,
    atomic_write,
    default_run_dir,
    device_option,
    load_model,
    seed_everything,
    transfer,
    user_errors,
    writable_dir,
)
from seqlab_classify.data import TOKENIZER, TaskData, build_vocab, encode, load_task
from seqlab_classify.head import ClassifierHead
from seqlab_classify.metrics import confusion_png, report, scores
from seqlab_classify.predict import device_for, probabilities

# ULMFiT's classifier dropouts (AWD-LSTM's), all scaled by --drop-mult.
DROPOUTS = {"emb_drop": 0.02, "input_drop": 0.25, "hidden_drop": 0.15, "weight_drop": 0.2}
HEAD_DROP = 0.4


def build_model(
    task: TaskData, opts: dict, pre: transfer.Pretrained | None
) -> tuple[SeqModel, Vocab, dict]:
    """The encoder (pretrained, or fresh with the same or the given architecture) under a new
    classifier head; also the vocab and a note on the transfer for the run's metadata."""
    task_vocab = build_vocab(task.texts("train"), opts["min_freq"], opts["max_vocab"])
    drops = {k: v * opts["drop_mult"] for k, v in DROPOUTS.items()}
    note: dict = {"encoder": None, "from_scratch": opts["from_scratch"]}
    if pre is not None:
        note["encoder"] = str(pre.stem)
        vocab = task_vocab if opts["from_scratch"] else transfer.extend_vocab(pre.vocab, task_vocab)
        encoder = transfer.build_encoder(vocab, pre, from_scratch=opts["from_scratch"], **drops)
        if not opts["from_scratch"]:
            note["known_tokens"] = sum(t in pre.vocab.stoi for t in vocab.itos)
            note["new_tokens"] = len(vocab) - note["known_tokens"]
    else:
        vocab = task_vocab
        config = EncoderConfig(
            len(vocab),
            hidden=opts["hidden"],
            layers=opts["layers"],
            cell=opts["cell"],
            emb_size=opts["emb_size"],
        )
        encoder = transfer.build_encoder(vocab, config=config, **drops)
    head = ClassifierHead(
        encoder, len(task.classes), lin=opts["lin"], drop=HEAD_DROP * opts["drop_mult"]
    )
    return SeqModel(encoder, head), vocab, note


def run(
    task: TaskData,
    opts: dict,
    out: Path,
    pre: transfer.Pretrained | None = None,
    console: Console | None = None,
) -> dict:
    """Train, then evaluate the best checkpoint on the test split (else valid); returns the
    results (also written to out/results.json)."""
    console = console or Console()
    start = time.perf_counter()
    train_cfg = TrainConfig(
        epochs=opts["epochs"],
        lr=opts["lr"],
        wd=opts["wd"],
        seed=opts["seed"],
        device=opts["device"],
    )
    seed_everything(opts["seed"])
    model, vocab, note = build_model(task, opts, pre)
    seqs = {split: encode(task.texts(split), vocab) for split in task.splits}
    batching = {"bs": opts["bs"], "max_tokens": opts["max_tokens"], "pad_idx": vocab.pad_idx}
    train = PaddedBatches(
        seqs["train"], task.label_ids("train"), shuffle=True, seed=opts["seed"], **batching
    )
    valid = PaddedBatches(seqs["valid"], task.label_ids("valid"), **batching)
    pretrained = note["encoder"] is not None and not opts["from_scratch"]
    discriminative = opts["discriminative"] if opts["discriminative"] is not None else pretrained
    unfreeze = opts["unfreeze"] if opts["unfreeze"] is not None else pretrained
    mults, callbacks = transfer.fine_tuning(model, discriminative, unfreeze, opts["lr_factor"])
    n_groups = len(model.layer_groups())
    if unfreeze and opts["epochs"] < n_groups:
        console.print(
            f"note: gradual unfreezing opens one of {n_groups} layer groups per epoch; "
            f"with --epochs {opts['epochs']} the lowest "
            f"{n_groups - opts['epochs']} never train",
            style="yellow",
        )
    meta = {
        "task": "classify",
        "encoder": asdict(model.encoder.config),
        "head": {"kind": ClassifierHead.kind, "config": model.head.config()},
        "vocab": vocab.itos,
        "labels": task.classes,
        "data": {
            "text_col": opts["text_col"],
            "label_col": opts["label_col"],
            "tokenizer": TOKENIZER,
            "sources": task.sources,
        },
        "transfer": {**note, "discriminative": discriminative, "unfreeze": unfreeze},
    }
    config = {**meta, "options": {k: str(v) if isinstance(v, Path) else v for k, v in opts.items()}}
    del config["vocab"]
    atomic_write(out / "config.json", json.dumps(config, indent=1))
    sizes = ", ".join(f"{s} {len(seqs[s])}" for s in ("train", "valid", "test") if s in seqs)
    known = f" ({note['known_tokens']} known to the LM)" if pretrained else ""
    console.print(
        f"examples: {sizes}; {len(task.classes)} classes; vocab {len(vocab)}{known}",
        highlight=False,
        soft_wrap=True,
    )
    trainer = Trainer(
        model,
        train,
        valid,
        train_cfg,
        run_dir=out,
        meta=meta,
        console=console,
        lr_mults=mults,
        callbacks=callbacks,
    )
    trainer.fit()
    return evaluate(
        task, out, "test" if "test" in seqs else "valid", opts, console, time.perf_counter() - start
    )


def evaluate(
    task: TaskData, out: Path, split: str, opts: dict, console: Console, seconds: float
) -> dict:
    """Score the run's best checkpoint (as `seqlab predict` loads it) on `split`."""
    model, vocab, _ = load_model(out / "best")
    probs = probabilities(
        model, encode(task.texts(split), vocab), opts["bs"], device_for(opts["device"])
    )
    true, pred = task.label_ids(split), probs.argmax(1).tolist()
    text = report(true, pred, task.classes)
    results = {
        "split": split,
        "source": task.sources[split],
        "n": len(true),
        **scores(true, pred),
        "seconds": seconds,
    }
    atomic_write(out / "report.txt", text)
    atomic_write(out / "results.json", json.dumps(results, indent=1))
    confusion_png(
        true,
        pred,
        task.classes,
        out / "confusion.png",
        f"{split}: accuracy {results['accuracy']:.3f}, macro-F1 {results['macro_f1']:.3f}",
    )
    console.print(
        f"\nbest checkpoint on {split} ({task.sources[split]}, {len(true)} examples):",
        highlight=False,
    )
    console.print(text, highlight=False)
    console.print(
        f"accuracy {results['accuracy']:.4f}  macro-F1 {results['macro_f1']:.4f}  "
        f"({seconds:.0f} s)",
        highlight=False,
    )
    return results


@click.command()
@click.argument("dataset", required=False)
@click.option(
    "--encoder",
    type=click.Path(path_type=Path),
    default=None,
    help="The pretrained LM: a run directory of `seqlab pretrain` (its best checkpoint).",
)
@click.option(
    "--from-scratch",
    is_flag=True,
    help="The baseline: the same architecture with fresh weights (the --encoder run's "
    "architecture, else --cell/--layers/--hidden/--emb-size).",
)
@click.option(
    "--train",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Labelled training texts: .csv, .tsv (with a header) or .jsonl.",
)
@click.option(
    "--valid",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Labelled validation texts (epoch table, best checkpoint). Default: hold out "
    "--holdout of the training texts.",
)
@click.option(
    "--test",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Labelled test texts, scored once at the end with the best checkpoint.",
)
@click.option(
    "--holdout",
    default=0.1,
    show_default=True,
    help="Fraction of the training texts held out for validation when there is no --valid.",
)
@click.option("--text-col", default="text", show_default=True, help="Column (key) of the text.")
@click.option("--label-col", default="label", show_default=True, help="Column (key) of the label.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "tsv", "jsonl"]),
    default=None,
    help="File format [default: from the file name's suffix].",
)
@click.option("--epochs", default=8, show_default=True, help="Epochs of one-cycle training.")
@click.option("--lr", default=1e-2, show_default=True, help="Peak learning rate (of the head).")
@click.option("--wd", default=0.01, show_default=True, help="AdamW weight decay.")
@click.option("--bs", default=32, show_default=True, help="Texts per batch (at most).")
@click.option(
    "--max-tokens",
    default=4096,
    show_default=True,
    help="Token budget of a batch: texts x longest text (padding included).",
)
@click.option(
    "--discriminative/--no-discriminative",
    default=None,
    help="Lower layer groups learn at lr / lr-factor per group (ULMFiT). "
    "[default: on with a pretrained encoder, off from scratch]",
)
@click.option(
    "--unfreeze/--no-unfreeze",
    default=None,
    help="Gradual unfreezing: epoch 1 trains the head only, each later epoch one more "
    "group down. [default: on with a pretrained encoder, off from scratch]",
)
@click.option(
    "--lr-factor",
    default=transfer.ULMFIT_FACTOR,
    show_default=True,
    help="Learning-rate ratio between neighbouring layer groups.",
)
@click.option(
    "--drop-mult",
    default=0.5,
    show_default=True,
    help="Scales all dropouts (encoder's and head's) at once.",
)
@click.option("--lin", default=50, show_default=True, help="Hidden units of the head's MLP.")
@click.option(
    "--min-freq",
    default=1,
    show_default=True,
    help="Training-text words seen fewer times are xxunk (unless the LM knows them).",
)
@click.option("--max-vocab", default=60000, show_default=True, help="Most training-text words.")
@click.option(
    "--cell",
    type=click.Choice(["rnn", "gru", "lstm"]),
    default="lstm",
    show_default=True,
    help="Without --encoder: recurrent cell.",
)
@click.option("--layers", default=2, show_default=True, help="Without --encoder: RNN layers.")
@click.option("--hidden", default=128, show_default=True, help="Without --encoder: hidden size.")
@click.option(
    "--emb-size", default=64, show_default=True, help="Without --encoder: embedding size."
)
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@device_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run directory [default: runs/classify-YYYYmmdd-HHMMSS].",
)
@user_errors
def classify(dataset, out, **opts):
    """Fine-tune a text classifier on a pretrained LM encoder (ULMFiT), or from scratch.

    The texts come from --train/--valid/--test files, or from a built-in DATASET
    (human-numbers-parity, human-numbers-mod3: 500 numbers for training, 8,001..9,999 to test).
    Prints the epoch table, then the best checkpoint's report on the test texts (else the
    validation texts); `seqlab predict RUN_DIR` uses the run afterwards.

    \b
    Examples:
      seqlab pretrain human-numbers --out runs/lm
      seqlab finetune classify human-numbers-mod3 --encoder runs/lm --out runs/mod3
      seqlab finetune classify human-numbers-mod3 --from-scratch --out runs/mod3-scratch
      seqlab finetune classify --encoder runs/lm --train train.csv --valid valid.csv
    """
    if opts["encoder"] is None and not opts["from_scratch"]:
        raise UserError(
            "give --encoder RUN_DIR (a `seqlab pretrain` run) to fine-tune, or "
            "--from-scratch to train without pretraining"
        )
    for name in ("epochs", "bs", "max_tokens", "lin", "min_freq", "max_vocab"):
        if opts[name] < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {opts[name]}")
    if not 0 <= opts["drop_mult"] < 2:
        raise UserError(f"--drop-mult must be in [0, 2), got {opts['drop_mult']}")
    task = load_task(
        dataset,
        opts["train"],
        opts["valid"],
        opts["test"],
        opts["holdout"],
        opts["text_col"],
        opts["label_col"],
        opts["fmt"],
    )
    pre = transfer.load_pretrained(opts["encoder"]) if opts["encoder"] is not None else None
    if pre is not None and pre.config.backward:
        raise UserError(
            f"--encoder {opts['encoder']}: a backward LM; the classifier reads texts "
            f"left to right, so give it a forward one"
        )
    out = writable_dir(out or default_run_dir("classify"))
    click.echo(f"run directory: {out}", err=True)
    try:
        run(task, opts, out, pre)
    except Interrupted:
        click.echo(f"interrupted; the checkpoints so far are in {out}", err=True)
        raise SystemExit(130) from None
