"""What a tagger reads of each word besides an LM's view of it: the word lower-cased, its
shape, its suffix and its characters, as integer columns of one (words, COLUMNS) array.

    column   0           1            2          3           4 ... 4+MAX_CHARS-1
             LM word id  lower-cased  shape      suffix      characters (xxpad after the end)
             (LM vocab)  word id      "Xxxxx"    last 3,     first HEAD and last TAIL
                                                 lower-cased of a longer word

Why each: a word never seen in training is 20% of real text; its spelling says most of what a
tagger needs (-ly, -ed, Capitalised, 1,000, re-enter). The lower-cased lookup shares one row
between "The" and "the" and carries the case in the shape instead. Every column has its own
vocab (specials first, as seqlab.Vocab, so xxunk is 0 and xxpad 1 in each): an unknown value
reads as xxunk, padding as xxpad.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqlab import PAD, UNK, Vocab

ROWS_KEPT = 200_000  # words whose feature row `encode` keeps (~60 MB): a corpus's word types
HEAD, TAIL = 6, 10  # characters kept of a long word: its start and its end (the suffix)
MAX_CHARS = HEAD + TAIL
WORD, LOWER, SHAPE, SUFFIX, CHARS = 0, 1, 2, 3, 4  # column indices
COLUMNS = CHARS + MAX_CHARS
SUFFIX_LEN = 3


def shape(word: str) -> str:
    """spaCy-style word shape: X upper, x lower, d digit, other characters as they are; a run
    of one kind longer than 4 is cut to 4 ("Xxxxx" for "Tagging", "dd,ddd" for "12,000")."""
    out: list[str] = []
    run = 0
    for ch in word:
        kind = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        run = run + 1 if out and out[-1] == kind else 1
        if run <= 4:
            out.append(kind)
    return "".join(out)


def suffix(word: str) -> str:
    return word[-SUFFIX_LEN:].lower()


def chars(word: str) -> str:
    return word if len(word) <= MAX_CHARS else word[:HEAD] + word[-TAIL:]


@dataclass
class Featurizer:
    """The vocabs of the feature columns, built from the training words."""

    lower: Vocab
    shapes: Vocab
    suffixes: Vocab
    chars: Vocab

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]], min_freq: int = 1) -> Featurizer:
        words = Counter(w for s in sentences for w in s)

        def vocab(key, min_count: int = 1) -> Vocab:
            counts: Counter[str] = Counter()
            for w, n in words.items():
                for k in key(w):
                    counts[k] += n
            return Vocab.build(counts, min_freq=min_count)

        return cls(
            lower=vocab(lambda w: [w.lower()], min_freq),
            shapes=vocab(lambda w: [shape(w)]),
            suffixes=vocab(lambda w: [suffix(w)]),
            chars=vocab(chars),
        )

    # word -> its feature row for the vocab `encode` was last given (column 0 is its id):
    # most words of a text recur, and building a row costs as much as an LM reading the word
    _rows: dict[str, np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _rows_vocab: Vocab | None = field(default=None, init=False, repr=False, compare=False)

    def encode(self, words: Sequence[str], lm_vocab: Vocab | None = None) -> np.ndarray:
        """(len(words), COLUMNS) int64 feature ids of one sentence."""
        if lm_vocab is not self._rows_vocab or len(self._rows) > ROWS_KEPT:
            self._rows, self._rows_vocab = {}, lm_vocab
        rows = self._rows
        out = [rows.get(w) for w in words]
        for i, row in enumerate(out):
            if row is None:
                out[i] = rows[words[i]] = self._row(words[i], lm_vocab)
        if not out:
            return np.empty((0, COLUMNS), dtype=np.int64)
        return np.stack(out)  # type: ignore[arg-type]

    def _row(self, w: str, lm_vocab: Vocab | None) -> np.ndarray:
        out = np.full(COLUMNS, self.chars.pad_idx, dtype=np.int64)
        w_ = UNK if w == PAD else w  # a literal "xxpad" in the text is not padding
        out[WORD] = _id(lm_vocab, w_) if lm_vocab is not None else _id(self.lower, w_)
        out[LOWER] = _id(self.lower, w_.lower())
        out[SHAPE] = _id(self.shapes, shape(w_))
        out[SUFFIX] = _id(self.suffixes, suffix(w_))
        cs = chars(w_)
        out[CHARS : CHARS + len(cs)] = [_id(self.chars, c) for c in cs]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k).itos for k in ("lower", "shapes", "suffixes", "chars")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Featurizer:
        return cls(**{k: Vocab(d[k]) for k in ("lower", "shapes", "suffixes", "chars")})


def _id(vocab: Vocab, token: str) -> int:
    return vocab.stoi.get(token, vocab.unk_idx)
