"""Writers: predicted tags as `word<TAB>tag` lines, or back in the input's own format.

- tsv: one `word<TAB>tag` per line, a blank line after each sentence.
- conll: the input's lines with the tag column replaced (appended when a line has none);
  plain-text input becomes `word<TAB>tag` lines.
- conllu: CoNLL-U input keeps every line and field but the tag field; other input becomes
  minimal CoNLL-U (ID, FORM, the tag field; `_` elsewhere) with a `# text` comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from seqlab_tagging.readers import CONLLU_FIELDS, Sentence, column_index, split_columns

WRITE_FORMATS = ("tsv", "conll", "conllu")


def write_tsv(out: TextIO, sentences: Sequence[Sentence], tags: Sequence[Sequence[str]]) -> None:
    for s, pred in zip(sentences, tags, strict=True):
        out.write("".join(f"{w}\t{t}\n" for w, t in zip(s.words, pred, strict=True)) + "\n")


def write_conll(out: TextIO, sentences, tags, tag_col: int = -1, word_col: int = 1) -> None:
    for s, pred in zip(sentences, tags, strict=True):
        if s.source != "conll":
            write_tsv(out, [s], [pred])
            continue
        lines = list(s.lines)
        for k, t in zip(s.word_lines, pred, strict=True):
            lines[k] = _set_column(lines[k], t, tag_col, word_col)
        out.write("\n".join(lines) + "\n\n")


def _set_column(line: str, tag: str, tag_col: int, word_col: int) -> str:
    sep = "\t" if "\t" in line else " "
    cols = split_columns(line)
    i = column_index(tag_col, len(cols))
    if i is None or i == column_index(word_col, len(cols)):
        cols.append(tag)  # the line has no tag column yet
    else:
        cols[i] = tag
    return sep.join(cols)


def write_conllu(out: TextIO, sentences, tags, tag_field: str = "upos") -> None:
    field = CONLLU_FIELDS.index(tag_field)
    for s, pred in zip(sentences, tags, strict=True):
        if s.source == "conllu":
            lines = list(s.lines)
            for k, t in zip(s.word_lines, pred, strict=True):
                cols = lines[k].split("\t")
                cols[field] = t
                lines[k] = "\t".join(cols)
        else:
            lines = ["# text = " + " ".join(s.words)]
            for i, (w, t) in enumerate(zip(s.words, pred, strict=True), start=1):
                cols = [str(i), w] + ["_"] * 8
                cols[field] = t
                lines.append("\t".join(cols))
        out.write("\n".join(lines) + "\n\n")


def write(
    out: TextIO,
    fmt: str,
    sentences,
    tags,
    tag_col: int = -1,
    word_col: int = 1,
    tag_field: str = "upos",
) -> None:
    if fmt == "tsv":
        write_tsv(out, sentences, tags)
    elif fmt == "conll":
        write_conll(out, sentences, tags, tag_col, word_col)
    elif fmt == "conllu":
        write_conllu(out, sentences, tags, tag_field)
    else:
        raise ValueError(f"unknown output format {fmt!r}: one of {', '.join(WRITE_FORMATS)}")
