"""The classification task for the fine-tuning skeleton (seqlab.tasks.finetune): a classifier on a
pretrained LM encoder (ULMFiT), or from scratch.

Besides what every fine-tuning run writes, the run directory holds confusion.png.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from seqlab import EncoderConfig, PaddedBatches, SeqModel, Vocab
from seqlab.settings import setting
from seqlab.tasks import transfer
from seqlab.tasks.finetune import Built, FinetuneSettings, Scores, paths
from seqlab.train.trainer import MAX_EPOCHS, resolve_device
from seqlab_classify.data import TOKENIZER, TaskData, build_vocab, encode, load_task
from seqlab_classify.head import ClassifierHead
from seqlab_classify.metrics import confusion_png, report, scores
from seqlab_classify.predict import probabilities, reads_backward, run_level
from seqlab_classify.stack import StackedLMs

# --sort-batches: texts sorted by length within pools of this many batches (fastai's sortish)
SORTISH_POOL = 50
# ULMFiT's classifier dropouts (AWD-LSTM's), all scaled by --drop-mult.
DROPOUTS = {"emb_drop": 0.02, "input_drop": 0.25, "hidden_drop": 0.15, "weight_drop": 0.2}
HEAD_DROP = 0.4


@dataclass
class ClassifySettings(FinetuneSettings):
    epochs: int = setting(8, "Epochs of one-cycle training.", min=1, max=MAX_EPOCHS)
    holdout: float = setting(
        0.1,
        "Fraction of the training texts held out for validation when there is no --valid.",
        min=0,
        max=1,
        min_open=True,
        max_open=True,
    )
    text_col: str = setting("text", "Column (key) of the text.")
    label_col: str = setting("label", "Column (key) of the label.")
    fmt: str | None = setting(
        None,
        "File format [default: from the file name's suffix].",
        choices=("csv", "tsv", "jsonl"),
        cli=False,
    )
    max_tokens: int = setting(
        4096, "Token budget of a batch: texts x longest text (padding included).", min=1
    )
    drop_mult: float = setting(
        1.0,
        "Scales all dropouts (encoder's and head's) at once (fastai's default, 1, chosen on "
        "held-out documents: docs/classify.md).",
        min=0,
        max=2,
        max_open=True,
    )
    lin: int = setting(50, "Hidden units of the head's MLP.", min=1)
    min_freq: int = setting(
        1, "Training-text words seen fewer times are xxunk (unless the LM knows them).", min=1
    )
    max_vocab: int = setting(60000, "Most training-text words.", min=1)
    cell: str = setting(
        "lstm", "Without --encoder: recurrent cell.", choices=("rnn", "gru", "lstm")
    )
    layers: int = setting(2, "Without --encoder: RNN layers.", min=1)
    hidden: int = setting(128, "Without --encoder: hidden size.", min=1)
    emb_size: int = setting(64, "Without --encoder: embedding size.", min=1)
    backward_encoder: tuple[Path, ...] = setting((), "Backward LM run directories.", cli=False)
    freeze_encoder: bool = setting(
        False,
        "Train only the head: the LMs read as they were pretrained (no dropout, no gradients).",
    )
    balance: bool = setting(
        False,
        "Weight each class's loss by n / (classes x its training count), so a rare class "
        "counts as much as a common one (for skewed labels).",
    )
    label_smoothing: float = setting(
        0.0,
        "Spread this much of each target's probability over all classes (0: off; 0.1 is common).",
        min=0,
        max=1,
        max_open=True,
    )
    sort_batches: bool = setting(
        False,
        "Train on batches of texts of similar length (less padding: faster on texts of very "
        "mixed length). Off: random batches; the head's batch norm then sees every length in "
        "each batch, which generalised better (docs/classify.md).",
    )
    skip_bad_rows: bool = setting(
        False, "Leave out rows whose text is empty (each one named), instead of stopping."
    )

    def __post_init__(self) -> None:
        self.backward_encoder = paths(self.backward_encoder)
        super().__post_init__()


class Classification:
    name: ClassVar[str] = "classify"
    settings: ClassVar[type[FinetuneSettings]] = ClassifySettings

    def read(self, s: ClassifySettings) -> TaskData:
        if not s.encoder and not s.backward_encoder and not s.from_scratch:
            raise ValueError(
                "give --encoder RUN_DIR (a `seqlab pretrain` run) to fine-tune, or "
                "--from-scratch to train without pretraining"
            )
        task = load_task(
            s.dataset,
            s.train,
            s.valid,
            s.test,
            s.holdout,
            s.text_col,
            s.label_col,
            s.fmt,
            s.skip_bad_rows,
        )
        pretrained(s)  # a missing LM, or one of the wrong kind, fails before any file
        return task

    def build(self, task: TaskData, s: ClassifySettings) -> Built:
        lms = pretrained(s)
        model, vocab, note = build_model(task, s, lms)
        backward, level = reads_backward(model.encoder), level_of(lms)
        seqs = {split: encode(task.texts(split), vocab, backward, level) for split in task.splits}
        batching: dict[str, Any] = {
            "bs": s.bs,
            "max_tokens": s.max_tokens,
            "pad_idx": vocab.pad_idx,
        }
        sizes = ", ".join(f"{k} {len(seqs[k])}" for k in ("train", "valid", "test") if k in seqs)
        known = f" ({note['known_tokens']} known to the LM)" if "known_tokens" in note else ""
        notes = [f"examples: {sizes}; {len(task.classes)} classes; vocab {len(vocab)}{known}"]
        if task.skipped:
            shown = ", ".join(task.skipped[:10]) + (", ..." if len(task.skipped) > 10 else "")
            notes.append(f"skipped {len(task.skipped)} rows with an empty text: {shown}")
        return Built(
            model=model,
            vocab=vocab,
            train_dl=PaddedBatches(
                seqs["train"],
                task.label_ids("train"),
                shuffle=True,
                seed=s.seed,
                pool=SORTISH_POOL if s.sort_batches else 1,
                **batching,
            ),
            valid_dl=PaddedBatches(seqs["valid"], task.label_ids("valid"), **batching),
            meta={
                "level": level,  # what a token is: `seqlab predict` reads texts the same way
                **encoder_meta(model.encoder),
                "head": {"kind": ClassifierHead.kind, "config": model.head.config()},
                "labels": task.classes,
                "data": {
                    "text_col": s.text_col,
                    "label_col": s.label_col,
                    "tokenizer": TOKENIZER,
                    "sources": task.sources,
                },
                "transfer": note,
            },
            pretrained=bool(lms) and not s.from_scratch,
            notes=notes,
        )

    def score(
        self,
        model: SeqModel,
        vocab: Vocab,
        meta: dict,
        task: TaskData,
        split: str,
        s: ClassifySettings,
        out: Path,
    ) -> Scores:
        seqs = encode(task.texts(split), vocab, reads_backward(model.encoder), run_level(meta))
        probs = probabilities(model, seqs, vocab.pad_idx, s.bs, resolve_device(s.device))
        true, pred = task.label_ids(split), probs.argmax(1).tolist()
        metrics = scores(true, pred)
        confusion_png(
            true,
            pred,
            task.classes,
            out / "confusion.png",
            f"{split}: accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}",
        )
        text = f"{task.sources[split]}\n\n{report(true, pred, task.classes)}"
        return Scores(metrics, text, len(true), files=["confusion.png"])


def pretrained(s: ClassifySettings) -> list[transfer.Pretrained]:
    """The LMs of --encoder (forward) and --backward-encoder, in that order; all of one level.
    One LM is fine-tuned as ULMFiT does; several (or --freeze-encoder) make a StackedLMs."""
    lms = []
    for option, backward, given in (
        ("--encoder", False, s.encoder),
        ("--backward-encoder", True, s.backward_encoder),
    ):
        for path in given:
            pre = transfer.load_pretrained(path)
            if pre.config.backward != backward:
                other = "--encoder" if backward else "--backward-encoder"
                kind = "backward" if pre.config.backward else "forward"
                raise ValueError(f"{option} {path}: a {kind} LM; give it with {other}")
            lms.append((option, path, pre))
    levels = {pre.level: f"{option} {path}" for option, path, pre in lms}
    if len(levels) > 1:
        named = " and ".join(f"{given} is {level}-level" for level, given in levels.items())
        raise ValueError(
            f"{named}: one classifier reads one kind of token; train a classifier on each and "
            f"average them with `seqlab predict WORD_RUN CHAR_RUN`"
        )
    if s.freeze_encoder and (s.from_scratch or not lms):
        raise ValueError(
            "--freeze-encoder keeps pretrained LMs as they are: give them with --encoder or "
            "--backward-encoder, without --from-scratch"
        )
    return [pre for _, _, pre in lms]


def encoder_meta(encoder: Any) -> dict[str, Any]:
    """How a checkpoint names the encoder: a plain LM's config, or the stack's kind and
    config."""
    if isinstance(encoder, StackedLMs):
        return {"encoder_kind": StackedLMs.kind, "encoder": encoder.to_dict()}
    return {"encoder": asdict(encoder.config)}


def level_of(lms: list[transfer.Pretrained]) -> str:
    """What a token is to the classifier: its LMs' ("word" or "char"; a classifier on
    character LMs reads characters), else words."""
    return lms[0].level if lms else "word"


def build_model(
    task: TaskData, s: ClassifySettings, lms: list[transfer.Pretrained]
) -> tuple[SeqModel, Vocab, dict]:
    """The encoder (pretrained, or fresh with the same or the given architecture) under a new
    classifier head; also the vocab and a note on the transfer for the run's metadata."""
    task_vocab = build_vocab(task.texts("train"), s.min_freq, s.max_vocab, level_of(lms))
    drops: dict[str, Any] = {k: v * s.drop_mult for k, v in DROPOUTS.items()}
    note: dict = {}
    encoder: Any
    if lms:
        vocab = task_vocab
        if not s.from_scratch:  # every LM's tokens keep their rows, then the new ones
            for pre in reversed(lms):
                vocab = transfer.extend_vocab(pre.vocab, vocab)
            note["known_tokens"] = sum(any(t in p.vocab.stoi for p in lms) for t in vocab.itos)
            note["new_tokens"] = len(vocab) - note["known_tokens"]
        encoders = [
            transfer.build_encoder(vocab, pre, from_scratch=s.from_scratch, **drops) for pre in lms
        ]
        stacked = len(encoders) > 1 or s.freeze_encoder
        encoder = StackedLMs(encoders, vocab.pad_idx, s.freeze_encoder) if stacked else encoders[0]
    else:
        vocab = task_vocab
        config = EncoderConfig(
            len(vocab), hidden=s.hidden, layers=s.layers, cell=s.cell, emb_size=s.emb_size
        )
        encoder = transfer.build_encoder(vocab, config=config, **drops)
    head = ClassifierHead(
        encoder,
        len(task.classes),
        lin=s.lin,
        drop=HEAD_DROP * s.drop_mult,
        label_smoothing=s.label_smoothing,
        class_weights=balanced_weights(task.label_ids("train"), len(task.classes))
        if s.balance
        else None,
    )
    return SeqModel(encoder, head), vocab, note


def balanced_weights(labels: list[int], n_classes: int) -> list[float]:
    """scikit-learn's "balanced" class weights, n / (classes x count): every class carries the
    same total weight in the loss. Weights rather than resampling because batches group texts
    of similar length; reweighting keeps that, and each text is still seen once per epoch."""
    counts = Counter(labels)  # a class without examples (never, from the training labels): 1
    return [round(len(labels) / (n_classes * max(counts[c], 1)), 6) for c in range(n_classes)]


CLASSIFICATION = Classification()
