"""Words as tokens: Hugging Face `tokenizers` (Rust) counts and encodes them for the cache.

Its `Whitespace` pre-tokenizer splits on the regex `\\w+|[^\\w\\s]+` (words, and runs of
punctuation); a `WordLevel` trainer counts the words and a `WordLevel` model maps them to ids,
all outside the GIL and on every core. The character-level counterpart is seqlab.data.chartokens.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from seqlab.data.vocab import BOS, SPECIALS, UNK, Vocab

PRE_TOKENIZER = r"Whitespace: \w+|[^\w\s]+"
# tokenizers is fastest on inputs of a few KiB (measured: 2x faster than on 256 KiB, and than
# on single lines), and spreads a batch of them over its threads.
UNIT = 1 << 13  # bytes of text per input to the tokenizer
BATCH = 1 << 20  # characters per `encode_batch_fast` call (~100 bytes a token while in it)


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Whitespace()


_PRE = pre_tokenizer()


def tokenize(text: str) -> list[str]:
    """The tokens of one text, as the cache builder splits them."""
    return [t for t, _ in _PRE.pre_tokenize_str(text)]


def count(texts: Iterable[str], min_freq: int, max_vocab: int) -> tuple[Vocab, int]:
    """(vocab, distinct words seen at least `min_freq` times): the specials, then the words
    by count, ties in string order, at most `max_vocab` tokens in all."""
    counter = Tokenizer(models.WordLevel(unk_token=UNK))
    counter.pre_tokenizer = pre_tokenizer()
    trainer = trainers.WordLevelTrainer(
        vocab_size=2**31, min_frequency=min_freq, special_tokens=[], show_progress=False
    )
    counter.train_from_iterator(texts, trainer=trainer)
    # WordLevel ids run by count, descending, ties in string order: take the first ones.
    words = [w for w, _ in sorted(counter.get_vocab().items(), key=lambda kv: kv[1])]
    kept = [w for w in words if w not in SPECIALS][: max_vocab - len(SPECIALS)]
    return Vocab(list(SPECIALS) + kept), len(words)


def marked(text: str, doc_start: bool, doc_per_line: bool) -> str:
    """A piece of text with each document's start marked by the word xxbos, as fastai does:
    the vocab maps it to its id, so no document needs its own encode call."""
    if doc_per_line:
        lines = [line for line in text.split("\n") if line and not line.isspace()]
        return "".join(f"{BOS} {line}\n" for line in lines)
    return f"{BOS} {text}" if doc_start else text


def batches(units: Iterator[tuple[str, int]]) -> Iterator[tuple[list[str], int]]:
    """(text, bytes) units grouped into batches of about BATCH characters (one encode call)."""
    while True:
        texts, chars, size = [], 0, 0
        for text, n in units:
            texts.append(text)
            chars, size = chars + len(text), size + n
            if chars >= BATCH:
                break
        if not texts:
            return
        yield texts, size


class WordEncoder:
    """Texts -> word ids with one vocab; a word it does not know is xxunk."""

    def __init__(self, vocab: Vocab):
        self.tok = Tokenizer(models.WordLevel(vocab=vocab.stoi, unk_token=UNK))
        self.tok.pre_tokenizer = pre_tokenizer()
        self.dtype = np.uint16 if len(vocab) <= 2**16 else np.uint32

    def encode(self, texts: list[str]) -> np.ndarray:
        """The ids of `texts`, joined."""
        ids = [e.ids for e in self.tok.encode_batch_fast(texts, add_special_tokens=False)]
        n = sum(map(len, ids))
        return np.fromiter(itertools.chain.from_iterable(ids), dtype=self.dtype, count=n)

    def save(self, path: Path) -> None:
        """The Hugging Face tokenizer, to tokenize new text exactly the same way."""
        self.tok.save(str(path))
