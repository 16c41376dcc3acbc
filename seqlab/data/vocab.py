"""Vocab: token <-> id, with fastai's special tokens.

The special tokens and their order are fastai v1's, so ids match the course
(`xxunk` 0, `xxpad` 1, `xxbos` 2).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

UNK, PAD, BOS = "xxunk", "xxpad", "xxbos"
SPECIALS = (UNK, PAD, BOS, "xxfld", "xxmaj", "xxup", "xxrep", "xxwrep")


class Vocab:
    """An ordered list of tokens (`itos`) and its inverse (`stoi`)."""

    def __init__(self, itos: Sequence[str]):
        if len(set(itos)) != len(itos):
            dupes = sorted(t for t, n in Counter(itos).items() if n > 1)
            raise ValueError(f"vocab has duplicate tokens: {dupes[:5]}")
        if UNK not in itos:
            raise ValueError(f"vocab must contain {UNK!r}")
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.unk_idx = self.stoi[UNK]
        self.pad_idx = self.stoi.get(PAD, self.unk_idx)
        self.bos_idx = self.stoi.get(BOS, self.unk_idx)

    @classmethod
    def build(
        cls,
        counts: Counter[str] | Iterable[str],
        max_vocab: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = SPECIALS,
    ) -> Vocab:
        """Specials first, then tokens by descending count; ties keep first-seen order.

        `Counter.most_common` is stable, so a Counter filled in stream order breaks
        ties by first appearance, which is what fastai's vocab does.
        """
        if not isinstance(counts, Counter):
            counts = Counter(counts)
        words = [t for t, n in counts.most_common() if n >= min_freq and t not in specials]
        if max_vocab is not None:
            words = words[: max(0, max_vocab - len(specials))]
        return cls(list(specials) + words)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        head = " ".join(self.itos[:10])
        return f"Vocab({len(self)} tokens: {head}{' ...' if len(self) > 10 else ''})"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token ids as the smallest unsigned dtype that holds them; unknown -> xxunk."""
        dtype = np.uint16 if len(self) <= 2**16 else np.uint32
        get, unk = self.stoi.get, self.unk_idx
        return np.fromiter((get(t, unk) for t in tokens), dtype=dtype)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def textify(self, ids: Iterable[int], sep: str = " ") -> str:
        """fastai's name: ids back to readable text."""
        return sep.join(self.decode(ids))

    def to_json(self) -> str:
        return json.dumps({"itos": self.itos})

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(json.loads(text)["itos"])
