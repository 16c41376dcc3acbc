"""Corpus: what a corpus plugin hands the core — a vocab and documents of token ids per split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.data.vocab import Vocab


@dataclass
class Corpus:
    """Token-id documents by split ("train", "valid", ...), all encoded with one `vocab`.

    Each document is a 1-d integer array that starts with `xxbos`. `export`, when a
    plugin gives one, writes the corpus as text files into a directory.
    """

    name: str
    vocab: Vocab
    splits: dict[str, list[np.ndarray]]
    description: str = ""
    export: Callable[[Path], list[Path]] | None = field(default=None, repr=False)

    def split(self, name: str) -> list[np.ndarray]:
        if name not in self.splits:
            known = ", ".join(self.splits)
            raise ValueError(f"corpus {self.name!r} has no split {name!r} (known: {known})")
        return self.splits[name]

    def n_tokens(self, split: str) -> int:
        return sum(len(d) for d in self.split(split))
