"""`seqlab finetune tag`: a tagger on a pretrained forward (and optional backward) encoder.

    LM run(s) -> encoders, LM vocab extended by the training words -> TaggerEncoder (fwd [+
    bwd], outputs joined per word) -> TagHead (softmax or CRF) -> ULMFiT fine-tuning
    (discriminative learning rates, gradual unfreezing) -> run dir -> `seqlab predict RUN`

`--from-scratch` trains the same architecture from random weights (the baseline). The run
dir holds config.json, metrics.csv, curves.png, best.* / last.* and report.txt (per-tag
scores of the best checkpoint on the test split, else the valid split).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from seqlab import (
    Interrupted,
    SeqModel,
    TrainConfig,
    Trainer,
    UserError,
    Vocab,
    atomic_write,
    default_run_dir,
    device_option,
    load_model,
    registry,
    seed_everything,
    transfer,
    user_errors,
    writable_dir,
)
from seqlab_tagging import data
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.head import TagHead
from seqlab_tagging.metrics import report, scores, span_scheme
from seqlab_tagging.predict import tag
from seqlab_tagging.readers import CONLLU_FIELDS, FORMATS, Sentence, read

DEFAULTS = {"epochs": 10, "lr": 1e-2, "wd": 0.01, "bs": 32, "out_drop": 0.1}


def pretrained(path: Path | None, option: str, backward: bool):
    """The LM encoder of the run at `path`, checked to read in the right direction."""
    if path is None:
        return None
    pre = transfer.load_pretrained(path)
    if pre.config.backward != backward:
        read_as = "backward" if pre.config.backward else "forward"
        other = "--backward-encoder" if pre.config.backward else "--encoder"
        raise UserError(f"{option} {path}: this LM reads {read_as}; pass it as {other}")
    return pre


def build_model(fwd_pre, bwd_pre, train, tags: list[str], opts) -> tuple[SeqModel, Vocab]:
    """(model, vocab): the pretrained encoders (or fresh ones of their shape) under a TagHead."""
    task_vocab = data.word_vocab(train, opts["min_freq"])
    scratch = opts["from_scratch"]
    if scratch:
        vocab = task_vocab  # no pretraining: only the training words can be learned
    else:
        vocab = fwd_pre.vocab
        if bwd_pre is not None:
            vocab = transfer.extend_vocab(vocab, bwd_pre.vocab)
        vocab = transfer.extend_vocab(vocab, task_vocab)
    fwd = transfer.build_encoder(vocab, fwd_pre, from_scratch=scratch)
    bwd = transfer.build_encoder(vocab, bwd_pre, from_scratch=scratch) if bwd_pre else None
    encoder = TaggerEncoder(fwd, bwd, vocab.bos_idx)
    head = TagHead(encoder, tags, crf=opts["crf"], out_drop=opts["out_drop"])
    return SeqModel(encoder, head), vocab  # type: ignore[arg-type]  # a plugin encoder


def run(splits: dict[str, list], opts: dict[str, Any], out: Path, console=None) -> dict:
    """Fine-tune on splits["train"] (examples: (words, tags)), validate on "valid" (else
    "test"), then score the best checkpoint on "test" (else "valid")."""
    train = splits["train"]
    valid_name = "valid" if "valid" in splits else "test"
    eval_name = "test" if "test" in splits else "valid"
    tags = data.tag_list(train)
    fwd_pre = pretrained(opts["encoder"], "--encoder", backward=False)
    bwd_pre = pretrained(opts["backward_encoder"], "--backward-encoder", backward=True)
    train_cfg = TrainConfig(
        epochs=opts["epochs"],
        lr=opts["lr"],
        wd=opts["wd"],
        seed=opts["seed"],
        device=opts["device"],
    )
    seed_everything(opts["seed"])
    model, vocab = build_model(fwd_pre, bwd_pre, train, tags, opts)
    scratch = opts["from_scratch"]
    mults, callbacks = transfer.fine_tuning(
        model,
        discriminative=opts["discriminative"] and not scratch,
        unfreeze=opts["unfreeze"] and not scratch,
    )
    meta = {
        "task": "tag",
        "encoder_kind": TaggerEncoder.kind,
        "encoder": model.encoder.to_dict(),
        "head": {"kind": TagHead.kind, "config": model.head.config()},
        "vocab": vocab.itos,
        "tag_data": {k: opts[k] for k in ("word_col", "tag_col", "tag_field")},
    }
    bs = opts["bs"]
    train_dl = data.batches(train, vocab, tags, bs, shuffle=True, seed=opts["seed"])
    valid_dl = data.batches(splits[valid_name], vocab, tags, bs)
    trainer = Trainer(
        model,
        train_dl,
        valid_dl,
        train_cfg,
        run_dir=out,
        meta=meta,
        console=console,
        lr_mults=mults,
        callbacks=callbacks,
        # the headline metric, not valid_loss: a tagger's loss rises from overconfidence
        # while its accuracy still improves
        best_by="f1" if span_scheme(tags) else "accuracy",
    )
    start = time.perf_counter()
    history = trainer.fit()
    seconds = time.perf_counter() - start
    best, _, _ = load_model(out / "best")
    examples = splits[eval_name]
    pred = tag(best, vocab, [w for w, _ in examples], bs, trainer.device)
    gold = [list(t) for _, t in examples]
    scheme = span_scheme(tags)
    result = {
        "split": eval_name,
        "metrics": scores(gold, pred, scheme),
        "seconds": seconds,
        "report": report(gold, pred, scheme),
        "history": history,
    }
    atomic_write(out / "report.txt", f"{eval_name} split, best checkpoint\n\n{result['report']}")
    summary = {k: result[k] for k in ("split", "metrics", "seconds")}
    atomic_write(out / "scores.json", json.dumps(summary, indent=1))
    return result


def from_files(opts: dict[str, Any]) -> dict[str, list]:
    """(words, tags) examples of --train, --valid and --test; a valid or test tag that train
    never had is an error naming its file and line."""
    sentences: dict[str, list[Sentence]] = {}
    for split in ("train", "valid", "test"):
        if opts[split] is not None:
            sentences[split] = read(
                opts[split],
                opts["fmt"],
                opts["word_col"],
                opts["tag_col"],
                opts["tag_field"],
                need_tags=True,
            )
    known = {t for s in sentences["train"] for t in s.tags or ()}
    for split in ("valid", "test"):
        for s in sentences.get(split, []):
            for k, t in zip(s.word_lines, s.tags or (), strict=True):
                if t not in known:
                    raise UserError(
                        f"{opts[split]}:{s.line_no + k}: tag {t!r} never occurs in --train; "
                        "a tagger can only predict tags it was trained on (add examples to "
                        "--train)"
                    )
    return {split: [(s.words, s.tags) for s in ss] for split, ss in sentences.items()}


def from_registry(name: str) -> dict[str, list]:
    ds = registry.dataset(name)
    if ds.get("task") != "tag":
        raise UserError(f"dataset {name!r} is for {ds.get('task')!r}, not for tagging")
    return {k: ds[k] for k in ("train", "valid", "test") if k in ds}


D = DEFAULTS


@click.command("tag")
@click.argument("dataset", required=False)
@click.option(
    "--encoder",
    type=click.Path(path_type=Path, exists=True),
    required=True,
    help="Run dir of a forward LM (`seqlab pretrain ...`), or one of its checkpoints "
    "(best.json, last.json).",
)
@click.option(
    "--backward-encoder",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Run dir of a backward LM (`seqlab pretrain ... --backward`); its outputs "
    "are joined to the forward ones per word.",
)
@click.option(
    "--train",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Tagged training file (instead of DATASET).",
)
@click.option(
    "--valid",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Tagged validation file: the epoch table; its accuracy (span F1 for BIO/BIOES "
    "tags) picks the best checkpoint.",
)
@click.option(
    "--test",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Tagged test file, scored once at the end with the best checkpoint.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto",) + FORMATS[:2]),
    default="auto",
    show_default=True,
    help="Input format; auto: conllu for *.conllu files or lines "
    "of 10 tab fields, else conll columns.",
)
@click.option(
    "--word-col",
    default=1,
    show_default=True,
    help="CoNLL: column of the word (1-based; negative counts from the end).",
)
@click.option(
    "--tag-col",
    default=-1,
    show_default=True,
    help="CoNLL: column of the tag (1-based; -1 is the last column).",
)
@click.option(
    "--tag-field",
    type=click.Choice(CONLLU_FIELDS[2:]),
    default="upos",
    show_default=True,
    help="CoNLL-U: the field to learn and predict.",
)
@click.option(
    "--min-freq",
    default=1,
    show_default=True,
    help="Training words seen fewer times read as xxunk (so xxunk learns what an unseen "
    "word looks like); the LM's own words are always kept.",
)
@click.option(
    "--crf",
    is_flag=True,
    help="Linear-chain CRF with Viterbi decoding instead of a "
    "per-token softmax (learns which tag may follow which).",
)
@click.option(
    "--from-scratch",
    is_flag=True,
    help="Same architecture, random weights, only the training words: the no-pretraining baseline.",
)
@click.option(
    "--discriminative/--no-discriminative",
    default=False,
    show_default=True,
    help="Lower layers train at lower learning rates (ULMFiT, factor 2.6). Off by default "
    "for tagging: on both demo and GUM valid splits the lower layers of a small LM needed to "
    "move (docs/tagging.md).",
)
@click.option(
    "--unfreeze/--no-unfreeze",
    default=True,
    show_default=True,
    help="Gradual unfreezing: the head first, then one more layer group per epoch.",
)
@click.option(
    "--epochs", default=D["epochs"], show_default=True, help="Epochs of one-cycle training."
)
@click.option("--lr", default=D["lr"], show_default=True, help="Peak learning rate (the head's).")
@click.option("--wd", default=D["wd"], show_default=True, help="AdamW weight decay.")
@click.option("--bs", default=D["bs"], show_default=True, help="Sentences per batch.")
@click.option(
    "--out-drop",
    default=D["out_drop"],
    show_default=True,
    help="Dropout on the encoder outputs, before the tag layer.",
)
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@device_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run directory [default: runs/tag-YYYYmmdd-HHMMSS].",
)
@user_errors
def finetune_tag(dataset, out, **opts):
    """Fine-tune a tagger (a tag per word: part of speech, entities, roles) on a pretrained
    LM encoder, forward and optionally backward.

    The data is DATASET (a registered one, see `seqlab plugins`) or --train/--valid files:
    CoNLL columns (one word per line, blank line between sentences) or CoNLL-U. Prints the
    epoch table, then the per-tag report of the best checkpoint on --test (else --valid).

    \b
    Example:
      seqlab pretrain human-numbers --out runs/fwd
      seqlab pretrain human-numbers --backward --out runs/bwd
      seqlab finetune tag human-numbers-roles --encoder runs/fwd --backward-encoder runs/bwd
      seqlab finetune tag --encoder runs/fwd --train train.conllu --valid dev.conllu --crf
      seqlab predict runs/tag-... sentences.txt
    """
    for name in ("epochs", "bs", "min_freq"):
        if opts[name] < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {opts[name]}")
    if not 0 <= opts["out_drop"] < 1:
        raise UserError(f"--out-drop must be in [0, 1), got {opts['out_drop']}")
    if opts["word_col"] == opts["tag_col"]:
        raise UserError(f"--word-col and --tag-col are both {opts['word_col']}: they must differ")
    if (dataset is None) == (opts["train"] is None):
        raise UserError("give either DATASET (e.g. human-numbers-roles) or --train FILE")
    if dataset is None:
        if opts["valid"] is None and opts["test"] is None:
            raise UserError("give --valid FILE (and optionally --test FILE) with --train")
        splits = from_files(opts)
    else:
        if any(opts[k] for k in ("valid", "test")):
            raise UserError("--valid/--test go with --train, not with a DATASET")
        splits = from_registry(dataset)
    run_dir = writable_dir(out or default_run_dir("tag"))
    click.echo(f"run directory: {run_dir}", err=True)
    config = {"task": "tag", "dataset": dataset, **{k: _jsonable(v) for k, v in opts.items()}}
    atomic_write(run_dir / "config.json", json.dumps(config, indent=1))
    try:
        result = run(splits, opts, run_dir)
    except Interrupted as e:
        click.echo(str(e), err=True)
        raise SystemExit(130) from None
    click.echo(f"\n{result['report']}")
    headline = ", ".join(f"{k} {v:.4f}" for k, v in result["metrics"].items())
    click.echo(f"{result['split']} (best checkpoint): {headline}; run dir {run_dir}", err=True)


def _jsonable(v):
    return str(v) if isinstance(v, Path) else v
