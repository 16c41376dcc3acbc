"""The human-numbers corpus: train = 1..8,000, valid = 8,001..9,999, as in fastai.

Each split is one document: `xxbos` then the numbers' words joined by " , ".
The vocab is built from the train split only, after fastai v1's 8 special tokens.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from seqlab import BOS, Corpus, Vocab
from seqlab.data.files import atomic_write
from seqlab_human_numbers.numbers import text, words

SPLITS = {"train": range(1, 8001), "valid": range(8001, 10000)}


def tokens(numbers: range) -> list[str]:
    out = [BOS]
    for i, n in enumerate(numbers):
        if i:
            out.append(",")
        out += words(n)
    return out


def build_vocab() -> Vocab:
    return Vocab.build(Counter(tokens(SPLITS["train"])))


def export(directory: Path) -> list[Path]:
    """fastai's files: train.txt / valid.txt, one number per line."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, numbers in SPLITS.items():
        path = directory / f"{split}.txt"
        atomic_write(path, "".join(text(n) + "\n" for n in numbers))
        paths.append(path)
    return paths


def human_numbers() -> Corpus:
    vocab = build_vocab()
    splits = {name: [vocab.encode(tokens(numbers))] for name, numbers in SPLITS.items()}
    return Corpus(
        "human-numbers",
        vocab,
        splits,
        description="fastai lesson 7: 1..9,999 in words; train 1..8,000, valid 8,001..9,999",
        export=export,
    )
