"""Characters as tokens, for character-level language models (Flair's contextual string
embeddings, Akbik et al. 2018).

Every character is a token, spaces and newlines included: the text is read raw, never split
into words (only a CRLF line end is read as "\n"). The vocab is fastai's special tokens,
then the characters by frequency (ties in order of first appearance). A document starts with
the special token xxbos, as with words; with `doc_per_line` each non-blank line is a document
and keeps its newline, so the model learns where a line ends.

Ids come from one lookup table indexed by code point (1.1M entries, 2.2 MB as uint16):
text -> UTF-32 -> numpy -> table, with no Python loop over characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from seqlab.data.corpus import Corpus
from seqlab.data.vocab import BOS, SPECIALS, UNK, Vocab

CODE_POINTS = 0x110000


def doc_text(text: str, doc_per_line: bool) -> list[str]:
    """The documents' characters in a piece of text: with `doc_per_line`, each non-blank line
    with its newline; else the text as it is (one document, or the middle of one). A CRLF line
    end is read as "\n", as the word tokenizer and the labelled readers read it: a file saved on
    Windows must not teach the model a "\r" before every line break. (Pieces of a file are cut
    after a "\n", never between the "\r" and it.)"""
    text = text.replace("\r\n", "\n")
    if not doc_per_line:
        return [text]
    return [line + "\n" for line in text.split("\n") if line and not line.isspace()]


def count(texts: Iterable[str], doc_per_line: bool = False) -> Counter[str]:
    """Character counts of the documents in `texts`, in order of first appearance."""
    counts: Counter[str] = Counter()
    for text in texts:
        for doc in doc_text(text, doc_per_line):
            counts.update(doc)
    return counts


def build_vocab(counts: Counter[str], max_vocab: int | None = None, min_freq: int = 1) -> Vocab:
    """Specials, then characters by count (ties: first seen first)."""
    return Vocab.build(counts, max_vocab=max_vocab, min_freq=min_freq)


class CharEncoder:
    """Text -> character ids with one vocab; a character it does not know is xxunk."""

    def __init__(self, vocab: Vocab):
        if any(len(t) != 1 for t in vocab.itos if t not in SPECIALS):
            raise ValueError("not a character vocab: it has tokens longer than one character")
        self.vocab = vocab
        self.dtype = np.uint16 if len(vocab) <= 2**16 else np.uint32
        self.table = np.full(CODE_POINTS, vocab.unk_idx, dtype=self.dtype)
        for i, t in enumerate(vocab.itos):
            if t not in SPECIALS:
                self.table[ord(t)] = i

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of `text`."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        return self.table[points]

    def documents(self, text: str, doc_start: bool, doc_per_line: bool = False) -> np.ndarray:
        """The ids of a piece of text, with xxbos where a document starts: before each
        non-blank line with `doc_per_line`, else at the start when `doc_start`."""
        docs = doc_text(text, doc_per_line)
        ids = self.encode("".join(docs))
        if doc_per_line:
            starts = np.cumsum([0] + [len(d) for d in docs[:-1]], dtype=np.int64)
            return np.insert(ids, starts[: len(docs)], self.vocab.bos_idx)
        return np.insert(ids, 0, self.vocab.bos_idx) if doc_start else ids


def textify(vocab: Vocab, ids: Iterable[int]) -> str:
    """Character ids back to text, joined without spaces (special tokens by name)."""
    return "".join(vocab.itos[int(i)] for i in ids)


def untokenize(tokens: Iterable[str]) -> str:
    """Generated character tokens as plain text. xxbos starts a new document: a line break
    (none at the very start or right after one); xxunk is an unknown character, U+FFFD; the
    other specials (xxpad, xxrep, xxwrep, xxmaj, ...) never occur in character text, so a
    model that samples one has said nothing, and it is left out."""
    out: list[str] = []
    for t in tokens:
        if t == BOS:
            if out and out[-1] != "\n":
                out.append("\n")
        elif t == UNK:
            out.append("\ufffd")
        elif t not in SPECIALS:
            out.append(t)
    return "".join(out)


def char_corpus(words: Corpus) -> Corpus:
    """A word corpus read as characters: each document's words joined by spaces, the vocab
    counted on its train split (every character kept, as a registered corpus is small)."""
    bos = words.vocab.stoi.get(BOS)

    def text(doc: np.ndarray) -> str:
        ids = doc[1:] if len(doc) and doc[0] == bos else doc
        return words.vocab.textify(ids)

    texts = {split: [text(d) for d in docs] for split, docs in words.splits.items()}
    encoder = CharEncoder(build_vocab(count(texts.get("train", []))))
    splits = {s: [encoder.documents(t, doc_start=True) for t in ts] for s, ts in texts.items()}
    return Corpus(
        f"{words.name}:char",
        encoder.vocab,
        splits,
        description=f"{words.description} (as characters)",
    )
