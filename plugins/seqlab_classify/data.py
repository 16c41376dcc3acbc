"""The task's data: examples from files or a built-in dataset -> token ids and class ids.

Texts are split by seqlab's tokenizer (the one `seqlab pretrain PATH` uses, so a fine-tuned
encoder sees words as its LM did) and start with xxbos, as every pretraining document does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab import BOS, Vocab, registry
from seqlab.data import tokenize
from seqlab.data.labelled import DataError, Example, check_labels, read_examples
from seqlab_classify.ngrams import Hasher, word_spans

TOKENIZER = "seqlab.tokenize"  # recorded in the run, for `seqlab predict`


def words(text: str) -> list[str]:
    return tokenize.tokenize(text)


def tokens(text: str, level: str = "word") -> list[str]:
    """A text's tokens for an encoder of `level`: seqlab's words, or every character as it is
    (a character LM reads raw text, spaces included: seqlab.data.chartokens)."""
    return list(text) if level == "char" else words(text)


def encode(
    texts: list[str],
    vocab: Vocab,
    backward: bool = False,
    level: str = "word",
    hasher: Hasher | None = None,
) -> list[np.ndarray]:
    """Token ids of each text, xxbos first; `backward`: the tokens in reverse, as a backward LM
    read its documents (seqlab_lm.data.reverse_doc). With a `hasher`: (tokens, 1 + K) arrays,
    the token ids and each token's n-gram buckets (seqlab_classify.ngrams), hashed here once
    per text, reversed with the tokens."""
    out = []
    for text in texts:
        toks = tokens(text, level)
        if hasher is None:
            out.append(vocab.encode([BOS, *(reversed(toks) if backward else toks)]))
            continue
        ids = vocab.encode([BOS, *toks]).astype(np.int32)
        spans = word_spans(text, level, toks, hasher.spec.spaced)
        grams = hasher.rows(spans, len(ids), vocab.pad_idx)
        rows = np.concatenate([ids[:, None], grams], axis=1)
        out.append(np.concatenate([rows[:1], rows[:0:-1]]) if backward else rows)
    return out


def build_vocab(texts: list[str], min_freq: int, max_vocab: int, level: str = "word") -> Vocab:
    return Vocab.build(
        Counter(t for text in texts for t in tokens(text, level)), max_vocab, min_freq
    )


@dataclass
class TaskData:
    """Examples by split ("train", "valid", optionally "test") and the class names, sorted."""

    splits: dict[str, list[Example]]
    classes: list[str]
    sources: dict[str, str]  # where each split came from, for messages and the run config
    skipped: list[str] = field(default_factory=list)  # "file:line" of rows left out (empty text)

    def texts(self, split: str) -> list[str]:
        return [e.text for e in self.splits[split]]

    def label_ids(self, split: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.classes)}
        return [index[str(e.label)] for e in self.splits[split]]


def holdout(examples: list[Example], fraction: float, seed: int = 0):
    """A seeded random `fraction` of the examples as a validation set: (rest, held out)."""
    if not 0 < fraction < 1:
        raise ValueError(f"--holdout must be between 0 and 1, got {fraction}")
    n_held = max(1, round(len(examples) * fraction))
    if n_held >= len(examples):
        raise ValueError(f"--holdout {fraction} leaves no training examples of {len(examples)}")
    order = np.random.default_rng(seed).permutation(len(examples))
    held = set(order[:n_held].tolist())
    return (
        [e for i, e in enumerate(examples) if i not in held],
        [e for i, e in enumerate(examples) if i in held],
    )


def builtin(name: str) -> tuple[dict[str, list[Example]], str]:
    """A registered dataset (entry-point group seqlab.datasets) of the classify task."""
    data = registry.dataset(name)
    if data.get("task") != "classify":
        raise ValueError(f"dataset {name!r} is for the {data.get('task')!r} task, not classify")
    splits = {
        split: [Example(str(text), str(label), i) for i, (text, label) in enumerate(rows, 1)]
        for split, rows in data.items()
        if split in ("train", "valid", "test")
    }
    return splits, data.get("description", "")


def load_task(
    dataset: str | None,
    train: Path | None,
    valid: Path | None,
    test: Path | None,
    holdout_fraction: float,
    text_col: str,
    label_col: str,
    fmt: str | None,
    skip_bad_rows: bool = False,
) -> TaskData:
    """Read every split; without a valid split, hold out part of train (never the test set).
    Files given for --valid or --test replace a built-in dataset's split of that name.
    `skip_bad_rows`: leave rows with an empty text out (named in `skipped`) instead of failing."""
    skipped: list[str] = []

    def read(path: Path) -> list[Example]:
        lines: list[int] | None = [] if skip_bad_rows else None
        examples = read_examples(path, text_col, label_col, fmt, skipped=lines)
        skipped.extend(f"{path}:{line}" for line in lines or [])
        return examples

    if dataset is not None and train is not None:
        raise ValueError("give a built-in DATASET or --train FILE, not both")
    if dataset is not None:
        splits, _ = builtin(dataset)
        sources = {s: f"{dataset}:{s}" for s in splits}
    elif train is not None:
        splits = {"train": read(train)}
        sources = {"train": str(train)}
    else:
        raise ValueError(
            "nothing to train on: give --train FILE (or a built-in DATASET, e.g. "
            "human-numbers-mod3)"
        )
    for split, path in (("valid", valid), ("test", test)):
        if path is not None:
            splits[split] = read(path)
            sources[split] = str(path)
    if "valid" not in splits:
        splits["train"], splits["valid"] = holdout(splits["train"], holdout_fraction)
        sources["valid"] = f"{holdout_fraction:g} of {sources['train']} (held out)"
    classes = sorted({str(e.label) for e in splits["train"]})
    if len(classes) < 2:
        raise DataError(
            f"{sources['train']}: only one label ({classes[0]!r}); a classifier needs at least two"
        )
    for split in ("valid", "test"):
        if split in splits:
            check_labels(splits[split], classes, sources[split], sources["train"])
    return TaskData(splits, classes, sources, skipped)
