"""Raw text -> sentences of words, each word with its character offsets in the text.

Tagged corpora (CoNLL-2003, WNUT17, WikiANN, UD) split `Paris.` into `Paris` `.` and `(IBM)`
into `(` `IBM` `)`; a tagger fed whitespace-split text would meet "words" no training sentence
has. segtok (docs/decisions.md) splits text the Penn Treebank way the corpora use: its
sentence splitter knows abbreviations (`Mr. Smith` stays one sentence), its word tokenizer
keeps `U.S.`, `e-mail`, `5,000` and emoticons whole, and `split_contractions` gives `do` `n't`.
segtok returns strings; every one of them is a piece of the text, so offsets come from finding
each in turn. (Not segtok's web tokenizer, which keeps URLs whole: it also un-escapes `&amp;`,
so its words are not pieces of the text, and its URL pattern can swallow the words after a
URL; the property test found both. URLs come out in pieces: `http`, `://`, `x.com`.)
Its rules are written for English (and work for languages that write words apart with Latin
punctuation); for Chinese, Japanese or Thai, which do not put spaces between words, give the
words already split (CoNLL input) instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TextSentence:
    words: list[str]
    offsets: list[tuple[int, int]]  # (start, end) of each word in the text it came from


def split(text: str) -> list[TextSentence]:
    """The sentences of `text` (a line: one sentence or a paragraph), words with offsets into
    `text`; `text[start:end] == word` for every word. Blank text has none."""
    from segtok.segmenter import split_single
    from segtok.tokenizer import split_contractions, word_tokenizer

    out, pos = [], 0
    for sentence in split_single(text):
        words, offsets = [], []
        for token in split_contractions(word_tokenizer(sentence)):
            if not token.strip():  # a control character (U+001F) str.split() reads as space
                continue
            start = text.find(token, pos)
            if start < 0:  # segtok never rewrites a character; be safe if a version does
                raise ValueError(f"the tokenizer gave {token!r}, which is not in the text")
            pos = start + len(token)
            words.append(token)
            offsets.append((start, pos))
        if words:
            out.append(TextSentence(words, offsets))
    return out


def spaced(words: list[str]) -> list[tuple[int, int]]:
    """Offsets of `words` in `" ".join(words)`: what character offsets mean for input that
    came already split into words (CoNLL files, word lists)."""
    out, pos = [], 0
    for w in words:
        out.append((pos, pos + len(w)))
        pos += len(w) + 1
    return out
