"""The classification task for the fine-tuning skeleton (seqlab.tasks.finetune): by default a
classifier of its own, trained on the task's texts alone (the n-gram regression; a word view on
top with --word-view);
with --encoder, one on pretrained LMs (ULMFiT), the n-gram channel beside them.

Besides what every fine-tuning run writes, the run directory holds confusion.png.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import torch

from seqlab import EncoderConfig, PaddedBatches, SeqModel, StatefulEncoder, Vocab
from seqlab.settings import SettingError, setting
from seqlab.tasks import transfer
from seqlab.tasks.finetune import Built, FinetuneSettings, Scores, paths
from seqlab.train.trainer import MAX_EPOCHS, resolve_device
from seqlab_classify import convex
from seqlab_classify.data import TOKENIZER, TaskData, build_vocab, encode, load_task, tokens
from seqlab_classify.head import JOINS, MODES, ClassifierHead
from seqlab_classify.metrics import calibration, confusion_png, report, scores
from seqlab_classify.ngram_encoder import NgramEncoder
from seqlab_classify.ngrams import NgramSpec, frequent_words, word_spans
from seqlab_classify.predict import hasher_of, probabilities, reads_backward, run_level
from seqlab_classify.stack import StackedLMs
from seqlab_classify.wordview import WordView

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
        "lstm",
        "With --from-scratch and no --encoder: recurrent cell.",
        choices=("rnn", "gru", "lstm"),
    )
    layers: int = setting(2, "With --from-scratch and no --encoder: RNN layers.", min=1)
    hidden: int = setting(128, "With --from-scratch and no --encoder: hidden size.", min=1)
    emb_size: int = setting(64, "Without --encoder: word embedding size.", min=1)
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
    # the n-gram channel (seqlab_classify.ngrams, ngram_encoder); defaults: docs/classify.md
    ngrams: bool = setting(
        True,
        "The n-gram channel: hashed word and character n-grams (fastText's) beside the "
        "encoder, trained with it.",
    )
    word_ngrams: int = setting(
        2, "Word n-grams 1..N in the n-gram channel (0: none).", min=0, max=5
    )
    char_ngrams: str = setting(
        "2-5",
        "Character n-grams MIN-MAX of each word, with boundary marks <word> (0: none).",
    )
    ngram_buckets: int = setting(
        1 << 18, "Hash buckets of the n-gram channel (rows of its table).", min=1, max=1 << 24
    )
    ngram_dim: int = setting(
        64, "Size of an n-gram's vector (--ngram-join convex: one per class).", min=1, max=4096
    )
    shape_ngrams: int = setting(
        3,
        "Shape n-grams 1..N: each word replaced by itself if it is one of the training "
        "texts' --shape-words most frequent words, else by its shape (Xxx, dd); for style "
        "(0: none).",
        min=0, max=5,
    )  # fmt: skip
    shape_words: int = setting(
        100, "Most frequent training words kept in the shape n-grams.", min=0, max=10000
    )
    ngram_drop: float = setting(
        0.1, "Each n-gram of a training text is left out with this probability.",
        min=0, max=1, max_open=True,
    )  # fmt: skip
    ngram_join: str = setting(
        "convex",
        "Where the n-gram bag joins: convex, a logistic regression over the bag fitted "
        "first, to convergence (L-BFGS), then fixed, the rest of the model learning on top "
        "of its logits; the pooled encoder features (features: one MLP over both); or the "
        "logits (a linear layer of its own, trained with the rest).",
        choices=JOINS,
    )
    ngram_c: float = setting(
        100.0,
        "--ngram-join convex: the regression's C, the inverse of its L2 penalty "
        "(scikit-learn's LogisticRegression(C)).",
        min=1e-6, max=1e6,
    )  # fmt: skip
    ngram_balance: bool = setting(
        True,
        "--ngram-join convex: weight the regression's classes as --balance does (scikit-learn's "
        "class_weight='balanced'), whatever --balance says for the rest of the model.",
    )
    ngram_mode: str = setting(
        "l2",
        "The bag of a text's n-gram vectors: their mean (fastText's), sum, or sum over the L2 "
        "norm of their weights (l2: TF-IDF's norm).",
        choices=MODES,
    )
    ngram_idf: bool = setting(
        True,
        "Weight each n-gram by its inverse document frequency on the training texts (TF-IDF's "
        "weights, fixed; saved with the model).",
    )
    word_view: bool | None = setting(
        None,
        "Without --encoder: the classifier's own word view (embeddings with word dropout, a "
        "BiGRU) beside the n-grams, learning on top of the regression's logits; off: the "
        "n-grams alone. [default: off with the n-gram channel (on held-out documents it did "
        "not pay: docs/classify.md), on with --no-ngrams]",
    )
    word_hidden: int = setting(64, "The word view's BiGRU size per direction.", min=1, max=4096)
    word_drop: float = setting(
        0.1, "The word view's word dropout: a training word becomes xxunk with this probability.",
        min=0, max=1, max_open=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        self.backward_encoder = paths(self.backward_encoder)
        super().__post_init__()
        self.ngram_spec()  # a bad --char-ngrams fails with the other settings

    def ngram_spec(self, shape_words: tuple[str, ...] = ()) -> NgramSpec:
        """The n-grams these settings ask for; `shape_words`: the training texts' most
        frequent words (ngrams.frequent_words). Each kind in its own block of buckets; words
        split at whitespace."""
        try:
            parts = [int(p) for p in str(self.char_ngrams).split("-")]
        except ValueError:
            parts = []
        if parts == [0]:
            parts = [0, 0]
        if len(parts) != 2:
            raise SettingError(
                "char_ngrams", f"{self.char_ngrams!r}: give MIN-MAX, e.g. 2-5 (or 0 for none)"
            )
        return NgramSpec(
            self.ngram_buckets, self.word_ngrams, parts[0], parts[1],
            shape_max=self.shape_ngrams, shape_words=shape_words, blocks=True, spaced=True,
        )  # fmt: skip


class Classification:
    name: ClassVar[str] = "classify"
    settings: ClassVar[type[FinetuneSettings]] = ClassifySettings

    def read(self, s: ClassifySettings) -> TaskData:
        lms = s.encoder or s.backward_encoder or s.from_scratch
        if not lms and s.word_view is False and not s.ngrams:
            raise ValueError(
                "--no-ngrams --no-word-view leaves nothing to read the texts: drop one, or "
                "give --encoder RUN_DIR"
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
        inner = getattr(model.encoder, "inner", model.encoder)  # under the n-gram channel
        if isinstance(inner, StackedLMs):  # frozen LMs: each text read once a run
            inner.remember()
        backward, level = reads_backward(model.encoder), level_of(lms)
        hasher = hasher_of(model.encoder)
        seqs = {
            split: encode(task.texts(split), vocab, backward, level, hasher)
            for split in task.splits
        }
        if s.ngrams:  # n-grams no training text has: weight 0 (ngram_encoder.set_idf)
            cast(NgramEncoder, model.encoder).set_idf(seqs["train"], s.ngram_idf)
        if s.ngrams and s.ngram_join == "convex":
            balanced = s.ngram_balance or s.balance
            fit_ngrams(model, seqs["train"], task.label_ids("train"), s.ngram_c, balanced)
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
        seqs = encode(
            task.texts(split),
            vocab,
            reads_backward(model.encoder),
            run_level(meta),
            hasher_of(model.encoder),
        )
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
        calib = calibration(true, probs)
        trust = (
            f"calibration: mean confidence {calib['confidence']:.3f} against accuracy "
            f"{metrics['accuracy']:.3f}, expected calibration error {calib['ece']:.3f}, "
            f"log loss {calib['log_loss']:.3f}"
        )
        text = f"{task.sources[split]}\n\n{report(true, pred, task.classes)}\n{trust}\n"
        return Scores(metrics, text, len(true), files=["confusion.png"], details=calib)


def pretrained(s: ClassifySettings) -> list[transfer.Pretrained]:
    """The LMs of --encoder (forward) and --backward-encoder, in that order; all of one level.
    One LM is fine-tuned as ULMFiT does; several (or --freeze-encoder) make a StackedLMs."""
    lms = []
    for option, backward, given in (
        ("--encoder", False, s.encoder),
        ("--backward-encoder", True, s.backward_encoder),
    ):
        for path in given:
            pre = transfer.load_pretrained(path, backward)
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
    if isinstance(encoder, StatefulEncoder):
        return {"encoder": asdict(encoder.config)}
    return {"encoder_kind": encoder.kind, "encoder": encoder.to_dict()}


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
    elif s.from_scratch:
        vocab = task_vocab
        config = EncoderConfig(
            len(vocab), hidden=s.hidden, layers=s.layers, cell=s.cell, emb_size=s.emb_size
        )
        encoder = transfer.build_encoder(vocab, config=config, **drops)
    else:  # the default classifier: the n-grams, its own word view beside them if asked
        vocab = task_vocab
        encoder = (
            WordView(
                len(vocab),
                emb_size=s.emb_size,
                hidden=s.word_hidden,
                word_drop=s.word_drop,
                drop=DROPOUTS["input_drop"] * s.drop_mult,
                unk_idx=vocab.unk_idx,
                pad_idx=vocab.pad_idx,
                bos_idx=vocab.bos_idx,
            )
            if (s.word_view if s.word_view is not None else not s.ngrams)
            else None
        )
    fitted = s.ngrams and s.ngram_join == "convex"  # an n-gram column per class
    ngram_dim = len(task.classes) if fitted else s.ngram_dim if s.ngrams else 0
    if s.ngrams:
        texts, level = task.texts("train"), level_of(lms)
        spec = s.ngram_spec(shape_words(texts, level, s.shape_words) if s.shape_ngrams else ())
        encoder = NgramEncoder(encoder, spec, ngram_dim, vocab.pad_idx, s.ngram_drop, fitted)
    head = ClassifierHead(
        encoder,
        len(task.classes),
        lin=s.lin,
        drop=HEAD_DROP * s.drop_mult,
        label_smoothing=s.label_smoothing,
        class_weights=balanced_weights(task.label_ids("train"), len(task.classes))
        if s.balance
        else None,
        ngram_dim=ngram_dim,
        join=s.ngram_join,
        ngram_mode=s.ngram_mode,
    )
    return SeqModel(encoder, head), vocab, note


def shape_words(texts: list[str], level: str, n: int) -> tuple[str, ...]:
    """The n most frequent words of the training texts, split as the n-grams split them."""
    words = [[w for _, w in word_spans(t, level, tokens(t, level), True)] for t in texts]
    return frequent_words(words, n)


def fit_ngrams(
    model: SeqModel, train: list, labels: list[int], c: float, balanced: bool = False
) -> None:
    """--ngram-join convex: the logistic regression over the training texts' n-gram bags, as
    the n-gram table and the head's n-gram bias (seqlab_classify.convex)."""
    encoder, head = cast(NgramEncoder, model.encoder), cast(ClassifierHead, model.head)
    x = convex.features(train, encoder, head.ngram_mode)
    weights = torch.tensor(balanced_weights(labels, head.n_classes)) if balanced else None
    weight, bias = convex.fit(x, labels, head.n_classes, c, weights)
    encoder.set_linear(weight)
    with torch.no_grad():
        head.ngram_bias.copy_(bias)


def balanced_weights(labels: list[int], n_classes: int) -> list[float]:
    """scikit-learn's "balanced" class weights, n / (classes x count): every class carries the
    same total weight in the loss. Weights rather than resampling because batches group texts
    of similar length; reweighting keeps that, and each text is still seen once per epoch."""
    counts = Counter(labels)  # a class without examples (never, from the training labels): 1
    return [round(len(labels) / (n_classes * max(counts[c], 1)), 6) for c in range(n_classes)]


CLASSIFICATION = Classification()
