"""Hashed n-grams of a text, per token: the input of the classifier's n-gram channel.

fastText's bag of n-grams (Joulin et al. 2017; Bojanowski et al. 2017): each word gives its
word n-grams (the word itself and the words before it: 1..`word_max`) and its character
n-grams (`char_min`..`char_max`) of the word with boundary marks, `<word>`. Each n-gram is
hashed into one of `buckets` rows of an embedding table. The hash is CRC-32 (zlib), not
Python's `hash()`, which is salted per process: a checkpoint's buckets must mean the same
n-grams in every later `seqlab predict`.

Shape n-grams (`shape_max`) are Stamatatos's text distortion (2013), for style rather than
topic: each word is replaced by itself, lower-cased, if it is one of the training texts' most
frequent words (`shape_words`: function words, punctuation), else by its shape ("Paris" ->
"Xxx", "1984" -> "dd"); the n-grams 1..`shape_max` of that sequence ("the Xxx of", "xx , xx")
then carry how a text is written, which a genre keeps across documents whose topics differ.

With `blocks`, each kind (word, shape, char) hashes into its own share of the buckets, so a
bucket says which kind it holds: the head then norms each kind's bag on its own (as one
TfidfVectorizer per kind does), and a sentence's many character n-grams no longer drown its
few word and shape n-grams (docs/classify.md).

The ids ride along with the token ids, one row per token (PaddedBatches' (tokens, F) form):

    column 0      the token's id in the run's vocab (what the word view or the LM reads)
    columns 1..K  the n-grams that end at that token, bucket + pad_idx + 1; pad_idx: none

so they are computed once per text when the data is encoded, batched and padded by the
same code as the tokens, and reversed with them for a backward LM. A char-level classifier
reads characters; a word's n-grams then sit at its last character.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np

from seqlab.settings import SettingError

# hashed with the kind first, so the word "ab", the shape "ab" and the chars "ab" differ
WORD, SHAPE, CHAR = "w", "s", "c"
BOW, EOW = "<", ">"  # fastText's word boundary marks
MAX_BUCKETS = 1 << 24
PAIR_START = zlib.crc32(f"{WORD}\x1f".encode())  # the CRC-32 every word pair's text begins with
TOKEN = re.compile(r"\w+|[^\w\s]+")  # seqlab's word tokens (seqlab.data.wordtokens)
CACHED = 1_000_000  # words remembered: a stream of new words cannot fill memory


@dataclass(frozen=True)
class NgramSpec:
    """Which n-grams, and how many buckets they are hashed into (a checkpoint stores it)."""

    buckets: int = 1 << 18
    word_max: int = 2  # word n-grams 1..word_max (0: none)
    char_min: int = 2
    char_max: int = 5  # character n-grams char_min..char_max (0: none)
    per_word: int = 64  # n-grams kept per word (a long URL would give hundreds)
    shape_max: int = 0  # shape n-grams 1..shape_max (0: none)
    shape_words: tuple[str, ...] = ()  # the words a shape n-gram keeps (lower-cased)
    blocks: bool = False  # each kind in its own share of the buckets (older runs: shared)
    spaced: bool = False  # words split at whitespace (older runs: the word-level tokens)

    def __post_init__(self) -> None:
        if not 1 <= self.buckets <= MAX_BUCKETS:
            raise SettingError("ngram_buckets", f"must be in 1..{MAX_BUCKETS}, got {self.buckets}")
        if not 0 <= self.word_max <= 5:
            raise SettingError("word_ngrams", f"must be in 0..5, got {self.word_max}")
        if self.char_max and not 1 <= self.char_min <= self.char_max <= 10:
            raise SettingError(
                "char_ngrams",
                f"{self.char_min}-{self.char_max}: give MIN-MAX with 1 <= MIN <= MAX <= 10 "
                f"(or 0 for none)",
            )
        if not 0 <= self.shape_max <= 5:
            raise SettingError("shape_ngrams", f"must be in 0..5, got {self.shape_max}")
        if not self.word_max and not self.char_max and not self.shape_max:
            raise SettingError(
                "ngrams", "word, character and shape n-grams are all off; turn one on"
            )
        if self.blocks and self.buckets < len(self.kinds):
            raise SettingError("ngram_buckets", f"must be at least {len(self.kinds)}")
        if self.per_word < 1:
            raise SettingError("ngram_per_word", f"must be at least 1, got {self.per_word}")

    @cached_property  # computed once: every n-gram's bucket asks for its kind's span
    def kinds(self) -> list[str]:
        """The kinds on, in the order a word's n-grams come (and the blocks' order)."""
        on = ((WORD, self.word_max), (SHAPE, self.shape_max), (CHAR, self.char_max))
        return [kind for kind, n in on if n]

    @property
    def n_blocks(self) -> int:
        return len(self.kinds) if self.blocks else 1

    @property
    def block_size(self) -> int:
        """Buckets per block: block j is buckets j * size .. (j + 1) * size - 1 (the last
        also takes the remainder, which no kind hashes into)."""
        return self.buckets // self.n_blocks

    @cached_property
    def spans(self) -> dict[str, tuple[int, int]]:
        """Each kind's (first bucket, how many): all of them without blocks."""
        if not self.blocks:
            return {kind: (0, self.buckets) for kind in (WORD, SHAPE, CHAR)}
        size = self.block_size
        return {kind: (j * size, size) for j, kind in enumerate(self.kinds)}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape_words"] = list(self.shape_words)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NgramSpec:
        return cls(**{**d, "shape_words": tuple(d.get("shape_words", ()))})


def bucket(kind: str, gram: str, spec: NgramSpec) -> int:
    """The bucket of one n-gram: the same in every process and on every machine."""
    first, size = spec.spans[kind]
    return first + zlib.crc32(f"{kind}\x1f{gram}".encode()) % size


def shape(word: str) -> str:
    """A word's shape: X for an upper-case letter, x lower-case, d a digit, the rest kept; a
    run of more than two of a kind shortened to two ("McDonald's" -> "XxXxx'x")."""
    marks = "".join("X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c
                    for c in word)  # fmt: skip
    return re.sub(r"(.)\1\1+", r"\1\1", marks)


def frequent_words(texts: list[list[str]], n: int) -> tuple[str, ...]:
    """The n lower-cased words in the most texts (ties: the first seen), for `shape_words`."""
    df: Counter[str] = Counter()
    for words in texts:
        df.update({w.lower() for w in words})
    return tuple(w for w, _ in df.most_common(n))


def word_spans(
    text: str, level: str, tokens: list[str], spaced: bool = False
) -> list[tuple[int, str]]:
    """(token position, word) of each word: the whitespace-separated words at their last
    character for a char-level model; for a word-level one, its tokens, or with `spaced`
    the whitespace-separated words at their last token ("Paris." one word, at ".")."""
    if level == "char":
        return [(m.end() - 1, m.group()) for m in re.finditer(r"\S+", text)]
    if not spaced:
        return list(enumerate(tokens))
    words = text.split()
    # the tokens (`\w+|[^\w\s]+`) split each word without a gap: split each word alone, in C
    pieces = [TOKEN.findall(w) for w in words]
    if list(itertools.chain.from_iterable(pieces)) != tokens:
        return list(enumerate(tokens))  # Python's \w is not the tokenizer's here ("¼")
    ends = itertools.accumulate(len(p) for p in pieces)
    return [(end - 1, w) for end, w in zip(ends, words, strict=True)]


class Hasher:
    """A spec's n-grams of words and texts. A word's own n-grams and their buckets are
    remembered (words repeat: Zipf), so hashing a text costs about one dictionary look-up
    and one CRC-32 (its word pair) per word."""

    def __init__(self, spec: NgramSpec):
        self.spec = spec
        self._own: dict[str, list[tuple[str, str]]] = {}
        self._own_ids: dict[str, tuple[list[int], list[int]]] = {}
        # a word's CRC-32 as the first of a word pair ("w\x1fWORD "), and its UTF-8 bytes as
        # the second: zlib.crc32 continues a CRC, so a pair's bucket is one call on cached parts
        self._pair: dict[str, tuple[int, bytes]] = {}
        self._kept = set(spec.shape_words)
        self._shape: dict[str, str] = {}
        self._shape_crc: dict[str, tuple[int, bytes]] = {}  # a mark's CRC-32, its " mark"

    def own_grams(self, word: str) -> list[tuple[str, str]]:
        """(kind, n-gram) of the word alone: itself, then its character n-grams."""
        grams = self._own.get(word)
        if grams is None:
            s = self.spec
            grams = [(WORD, word)] if s.word_max else []
            if s.char_max:
                marked = f"{BOW}{word}{EOW}"
                for n in range(s.char_min, s.char_max + 1):
                    grams += [(CHAR, marked[i : i + n]) for i in range(len(marked) - n + 1)]
            if len(self._own) < CACHED:
                self._own[word] = grams
        return grams

    def own_ids(self, word: str) -> tuple[list[int], list[int]]:
        """The buckets of `own_grams(word)`, in its order, cut where a text's longer word
        n-grams go: (the word's own bucket, or none without word n-grams; the rest)."""
        ids = self._own_ids.get(word)
        if ids is None:
            first = 1 if self.spec.word_max else 0
            flat = [bucket(kind, g, self.spec) for kind, g in self.own_grams(word)]
            ids = (flat[:first], flat[first:])
            if len(self._own_ids) < CACHED:
                self._own_ids[word] = ids
        return ids

    def _pair_parts(self, word: str) -> tuple[int, bytes]:
        parts = self._pair.get(word)
        if parts is None:
            data = word.encode()
            parts = (zlib.crc32(data + b" ", PAIR_START), data)
            if len(self._pair) < CACHED:
                self._pair[word] = parts
        return parts

    def _longer_ids(self, words: list[str], i: int) -> list[int]:
        """The buckets of `_longer(words, i)`, in its order."""
        if self.spec.word_max != 2:
            return [bucket(kind, g, self.spec) for kind, g in self._longer(words, i)]
        if i == 0:
            return []
        first, size = self.spec.spans[WORD]
        pair = zlib.crc32(self._pair_parts(words[i])[1], self._pair_parts(words[i - 1])[0])
        return [first + pair % size]

    def _longer(self, words: list[str], i: int) -> list[tuple[str, str]]:
        """The word n-grams of 2..word_max words that end at word i."""
        return [
            (WORD, " ".join(words[i - n + 1 : i + 1]))
            for n in range(2, self.spec.word_max + 1)
            if i - n + 1 >= 0
        ]

    def shape_of(self, word: str) -> str:
        """The word in a shape n-gram: itself lower-cased if it is kept, else its shape."""
        got = self._shape.get(word)
        if got is None:
            lower = word.lower()
            got = lower if lower in self._kept else shape(word)
            if len(self._shape) < CACHED:
                self._shape[word] = got
        return got

    def _shape_ids(self, marks: list[str], i: int, before: list[int]) -> list[int]:
        """The CRC-32s of `_shapes(marks, i)`, in its order (rows() takes their buckets),
        from those of the shape n-grams ending at word i - 1 (`before`: what this gave
        there; [] at the text's start): each n-gram is one of those continued by this word
        (zlib.crc32 continues a CRC), so a word costs `shape_max` calls."""
        mark = marks[i]
        own = self._shape_crc.get(mark)
        if own is None:
            own = (zlib.crc32(f"{SHAPE}\x1f{mark}".encode()), f" {mark}".encode())
            if len(self._shape_crc) < CACHED:
                self._shape_crc[mark] = own
        return [own[0]] + [zlib.crc32(own[1], c) for c in before[: self.spec.shape_max - 1]]

    def _shapes(self, marks: list[str], i: int) -> list[tuple[str, str]]:
        """The shape n-grams of 1..shape_max words that end at word i (`marks`: shape_of)."""
        return [
            (SHAPE, " ".join(marks[i - n + 1 : i + 1]))
            for n in range(1, self.spec.shape_max + 1)
            if i - n + 1 >= 0
        ]

    def grams(self, words: list[str]) -> list[list[tuple[str, str]]]:
        """For each word, the (kind, n-gram)s that end at it: the word itself, its longer word
        n-grams, its shape n-grams, then its character n-grams (the kinds' block order); at
        most `per_word`."""
        out = []
        first = 1 if self.spec.word_max else 0
        marks = [self.shape_of(w) for w in words] if self.spec.shape_max else []
        for i, word in enumerate(words):
            own, longer = self.own_grams(word), self._longer(words, i)
            shapes = self._shapes(marks, i) if marks else []
            out.append((own[:first] + longer + shapes + own[first:])[: self.spec.per_word])
        return out

    def rows(self, spans: list[tuple[int, str]], n_tokens: int, pad_idx: int) -> np.ndarray:
        """(n_tokens, per_word) n-gram columns of a text of `n_tokens` tokens, xxbos first,
        and words at `spans` (word_spans): the buckets of `grams` + pad_idx + 1 at each
        word's position (+1 for xxbos), pad_idx elsewhere."""
        per = self.spec.per_word
        words = [w for _, w in spans]
        marks = [self.shape_of(w) for w in words] if self.spec.shape_max else []
        first, size = self.spec.spans[SHAPE] if marks else (0, 1)
        shaped: list[int] = []  # the CRC-32s of the shape n-grams ending at the last word
        got: list[int] = []  # every word's buckets in order (C-level list extends, no copies)
        counts: list[int] = []
        for i, (_, word) in enumerate(spans):
            head, tail = self.own_ids(word)
            longer = self._longer_ids(words, i)
            if marks:
                shaped = self._shape_ids(marks, i, shaped)
                longer = longer + [first + crc % size for crc in shaped]
            n = len(head) + len(longer) + len(tail)
            if n <= per:
                got += head
                got += longer
                got += tail
            else:  # a long word (a URL): its first `per` n-grams only
                got += (head + longer + tail)[:per]
                n = per
            counts.append(n)
        # flat position of each bucket: its word's row (after xxbos) times per, plus its rank
        n_of = np.array(counts, dtype=np.int64)
        row = np.repeat(np.array([pos + 1 for pos, _ in spans], dtype=np.int64), n_of)
        rank = np.arange(len(got)) - np.repeat(np.cumsum(n_of) - n_of, n_of)
        out = np.full(n_tokens * per, pad_idx, dtype=np.int32)
        out[row * per + rank] = np.array(got, dtype=np.int32) + (pad_idx + 1)
        return out.reshape(n_tokens, per)


def grams_at(
    spans: list[tuple[int, str]], n_tokens: int, spec: NgramSpec
) -> list[list[tuple[str, str]]]:
    """For each token position (xxbos first), its (kind, n-gram)s, in the order of `rows`."""
    out: list[list[tuple[str, str]]] = [[] for _ in range(n_tokens)]
    for (pos, _), grams in zip(spans, Hasher(spec).grams([w for _, w in spans]), strict=True):
        out[pos + 1] = grams
    return out
