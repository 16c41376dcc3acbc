"""Readers for tagged text: CoNLL column files, CoNLL-U, and plain text (for prediction).

Each reader returns `Sentence`s that keep their lines as read, so the writers can put
predicted tags back into the input's own format. A problem in the input is a `ReadError`
naming file and line, with what to do about it.

- CoNLL columns (CoNLL-2000/2003 style): one token per line, columns separated by tabs (or
  by spaces when a line has no tab; whitespace at a line's end is not a column, and an
  empty word or tag is an error), a blank line between sentences; `-DOCSTART-` lines are
  kept but are not words. Columns are 1-based; a negative column counts from the end (-1 =
  last), the usual place of the tag.
- CoNLL-U: 10 tab-separated fields per word line; `#` comment lines; multi-word-token lines
  (ID `3-4`) and empty nodes (ID `5.1`) are kept but are not words. The word is FORM; the tag
  is the field named by `tag_field` (upos, xpos, deprel, ...).
- Text: a sentence or a paragraph per line, split into sentences and words by
  seqlab_tagging.rawtext (segtok), each word's character offsets in its line kept; blank lines
  are skipped.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.data.textfiles import check_line_lengths
from seqlab_tagging import rawtext

CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
FORMATS = ("conll", "conllu", "text")


class ReadError(ValueError):
    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Sentence:
    words: list[str]
    tags: list[str] | None  # None: the input has no tags (prediction)
    lines: list[str]  # the sentence's lines as read (comments and other non-word lines too)
    word_lines: list[int]  # index into `lines` of each word's line
    line_no: int  # 1-based line number of the first line in its file
    source: str  # the format it was read from: conll, conllu or text
    # text: (start, end) of each word in its line, lines[0]; else None (words joined by a space)
    offsets: list[tuple[int, int]] | None = None


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file ("-" is stdin), without line ends; undecodable bytes are a
    ReadError naming the line."""
    name = str(path)
    data = sys.stdin.buffer.read() if name == "-" else Path(path).read_bytes()
    return decode_lines(data, "<stdin>" if name == "-" else name)


def decode_lines(data: bytes, name: str) -> list[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ReadError(
            name,
            line,
            f"byte 0x{data[e.start]:02x} is not UTF-8; convert the file to UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)",
        ) from None
    check_line_lengths(text, name)
    return split_lines(text)


def split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def blocks(lines: list[str]):
    """(first line number, lines) of each run of non-blank lines."""
    start, block = 0, []  # type: tuple[int, list[str]]
    for i, line in enumerate(lines, start=1):
        # a byte-order mark alone on a line (files joined end to end: WNUT17's dev) is blank
        if line.replace("\ufeff", "").strip():
            if not block:
                start = i
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def split_columns(line: str) -> list[str]:
    """The fields of a word line: tab-separated (else space-separated). Whitespace at the end
    of a line is not a field: an editor's trailing tab must not make "" the tag (the one rule
    for trailing fields; an empty field inside the line is the caller's error to name)."""
    line = line.rstrip()
    return line.split("\t") if "\t" in line else line.split()


def column_index(col: int, n_columns: int) -> int | None:
    """0-based index of a 1-based (or negative, from the end) column; None if out of range."""
    i = col - 1 if col > 0 else n_columns + col
    return i if 0 <= i < n_columns else None


def read_conll(
    lines: list[str], name: str, word_col: int = 1, tag_col: int = -1, need_tags: bool = True
) -> list[Sentence]:
    """Sentences of a CoNLL column file's `lines` (`name` names it in errors). Without
    `need_tags` a line may lack the tag column (words-only input for prediction); then the
    sentence's `tags` is None."""
    if word_col == 0 or tag_col == 0:
        raise ValueError("columns are 1-based (or negative, counting from the end): not 0")
    out, pending = [], []
    for start, block in blocks(lines):
        words, tags, word_lines = [], [], []
        for k, line in enumerate(block):
            if line.startswith("-DOCSTART-"):
                continue
            cols = split_columns(line)
            w, t = column_index(word_col, len(cols)), column_index(tag_col, len(cols))
            if t == w:  # a negative tag column that lands on the word: no tag on this line
                t = None
            if w is None or (need_tags and t is None):
                need = max(abs(word_col), abs(tag_col) + (tag_col < 0))
                raise ReadError(
                    name,
                    start + k,
                    f"{len(cols)} column(s), need at least {need} "
                    f"(word in column {word_col}, tag in column {tag_col}); "
                    "set --word-col / --tag-col to the file's layout",
                )
            if not cols[w]:
                raise ReadError(name, start + k, f"empty word in column {word_col}")
            if t is not None and not cols[t].strip():
                raise ReadError(
                    name,
                    start + k,
                    f"empty tag in column {tag_col}; give every word a tag (O for none)",
                )
            words.append(cols[w])
            tags.append(cols[t] if t is not None else None)
            word_lines.append(k)
        if not words:  # a -DOCSTART- block: keep its lines in front of the next sentence
            pending += block + [""]
            continue
        known = [t for t in tags if t is not None]
        out.append(
            Sentence(
                words,
                known if len(known) == len(tags) else None,
                pending + block,
                [len(pending) + k for k in word_lines],
                start,
                "conll",
            )
        )
        pending = []
    return _nonempty(out, name, len(lines))


_ID = re.compile(r"^(\d+)(?:([-.])(\d+))?$")


def read_conllu(lines: list[str], name: str, tag_field: str = "upos") -> list[Sentence]:
    """Sentences of a CoNLL-U file's `lines`: word = FORM, tag = `tag_field`. Multi-word
    tokens and empty nodes are kept as lines but are not words."""
    if tag_field not in CONLLU_FIELDS:
        raise ValueError(f"unknown CoNLL-U field {tag_field!r}: one of {', '.join(CONLLU_FIELDS)}")
    t_idx = CONLLU_FIELDS.index(tag_field)
    out = []
    for start, block in blocks(lines):
        words, tags, word_lines = [], [], []
        for k, line in enumerate(block):
            if line.startswith("#"):
                continue
            cols = split_columns(line) if "\t" in line.rstrip() else [line]
            if len(cols) != 10:
                raise ReadError(
                    name,
                    start + k,
                    f"{len(cols)} tab-separated field(s), CoNLL-U needs 10; "
                    "is this a CoNLL-U file? (else use --format conll)",
                )
            m = _ID.match(cols[0])
            if m is None:
                raise ReadError(name, start + k, f"ID {cols[0]!r} is not N, N-M or N.M")
            if m.group(2):  # multi-word token or empty node: not a word of the sentence
                continue
            if not cols[1]:
                raise ReadError(name, start + k, "empty FORM field: every word needs a form")
            words.append(cols[1])
            tags.append(cols[t_idx])
            word_lines.append(k)
        if not words:
            raise ReadError(
                name,
                start,
                "sentence with no word lines (only comments or multi-word "
                "tokens); remove it or add its words",
            )
        out.append(Sentence(words, tags, block, word_lines, start, "conllu"))
    return _nonempty(out, name, len(lines))


def read_text(lines: list[str], name: str) -> list[Sentence]:
    """A sentence or a paragraph per line, split into sentences of words (rawtext.split), each
    word's offsets in its line kept; no tags."""
    out = []
    for i, line in enumerate(lines, start=1):
        for x in rawtext.split(line):
            out.append(Sentence(x.words, None, [line], [0] * len(x.words), i, "text", x.offsets))
    return _nonempty(out, name, len(lines))


def _nonempty(sentences: list[Sentence], name: str, n_lines: int) -> list[Sentence]:
    if not sentences:
        raise ReadError(name, max(n_lines, 1), "no sentences in this file")
    return sentences


SUFFIXES = {".conllu": "conllu", ".txt": "text"}
SUFFIXES.update(dict.fromkeys((".conll", ".tsv", ".iob", ".bio", ".bioes", ".col"), "conll"))


def guess_format(name: str, lines: list[str]) -> str:
    """The input's format from its file name, else from its first line that is neither blank
    nor a `#` comment: 10 tab fields with a numeric ID -> conllu, a tab -> conll, else text
    (a text line that starts with "#" is text when no CoNLL-U line follows)."""
    fmt = SUFFIXES.get(Path(name).suffix.lower())
    if fmt:
        return fmt
    body = [line for line in lines if line.strip() and not line.startswith("#")]
    first = body[0] if body else ""
    if first.count("\t") == 9 and _ID.match(first.split("\t")[0]):
        return "conllu"
    return "conll" if "\t" in first else "text"


def read(path: str | Path, *args: Any, **kwargs: Any) -> list[Sentence]:
    """Read the file `path` ("-": stdin); the other arguments are `parse`'s (fmt, word_col,
    tag_col, tag_field, need_tags)."""
    name = "<stdin>" if str(path) == "-" else str(path)
    return parse(read_lines(path), name, *args, **kwargs)


def parse(
    lines: list[str],
    name: str,
    fmt: str = "auto",
    word_col: int = 1,
    tag_col: int = -1,
    tag_field: str = "upos",
    need_tags: bool = True,
) -> list[Sentence]:
    if fmt == "auto":
        fmt = guess_format(name, lines)
        if fmt == "text" and need_tags:  # tagged data is never plain text: space-separated
            fmt = "conll"  # CoNLL columns (CoNLL-2003's eng.train, train.txt, ...)
    if fmt == "conll":
        return read_conll(lines, name, word_col, tag_col, need_tags)
    if fmt == "conllu":
        return read_conllu(lines, name, tag_field)
    if fmt == "text":
        if need_tags:
            raise ValueError(f"{name}: plain text has no tags; use --format conll or conllu")
        return read_text(lines, name)
    raise ValueError(f"unknown format {fmt!r}: one of auto, {', '.join(FORMATS)}")
