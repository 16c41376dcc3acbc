"""Read labelled texts from CSV, TSV or JSONL files (the classifier's data, and the task text
that `seqlab pretrain FILE.csv --text-col COL` fine-tunes an LM on).

CSV and TSV files need a header row naming the columns; a JSONL file holds one JSON object per
line. Labels are strings (a number label 3 is read as "3"). Every mistake in a file is an
error that names the file and the line, and says how to fix it. Rows whose text is empty are
all named in one error, or skipped when the caller asks (`--skip-bad-rows`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import NamedTuple

from seqlab.data.textfiles import check_line_lengths

FORMATS = ("csv", "tsv", "jsonl")
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class DataError(ValueError):
    """A problem in a data file (a ValueError, so the CLI shows it as one line, exit 2)."""


class EmptyText(NamedTuple):
    """A row whose text is empty: a bad row, named in the error or skipped."""

    line: int


class Example(NamedTuple):
    text: str
    label: str | None  # None when reading texts to predict
    line: int  # where the example starts in its file (1-based), for messages


def guess_format(path: Path, fmt: str | None = None) -> str:
    """`fmt` when given, else from the file name's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise DataError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return fmt
    found = SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise DataError(
            f"{path}: cannot tell the format from the name; name it .csv, .tsv or .jsonl "
            f"or pass --format"
        )
    return found


def decode(data: bytes, path: Path | str) -> str:
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is not part of the text
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: bytes that are not UTF-8 (at byte {e.start}); "
            f"save the file as UTF-8"
        ) from None
    check_line_lengths(text, str(path))
    return text


def read_examples(
    path: Path,
    text_col: str = "text",
    label_col: str | None = "label",
    fmt: str | None = None,
    text: str | None = None,
    skipped: list[int] | None = None,
    skip_hint: bool = True,
) -> list[Example]:
    """The examples of `path`; `label_col=None` reads texts only. `text` is the file's content
    when it was read already (stdin). Rows with an empty text are an error naming every such
    line, unless `skipped` is a list: then they are left out and their lines appended to it.
    `skip_hint`: the command has --skip-bad-rows, so the error names it."""
    fmt = guess_format(path, fmt)
    content = text if text is not None else decode(Path(path).read_bytes(), path)
    if fmt == "jsonl":
        rows = list(_jsonl(content, path, text_col, label_col))
    else:
        rows = list(_table(content, path, text_col, label_col, "," if fmt == "csv" else "\t"))
    bad = [r.line for r in rows if isinstance(r, EmptyText)]
    if bad and skipped is None:
        where = f"line {bad[0]}" if len(bad) == 1 else f"lines {_some(bad)} ({len(bad)} rows)"
        fix = "pass --skip-bad-rows to leave such rows out" if skip_hint else "remove the row"
        raise DataError(f"{path}, {where}: empty text in {text_col!r}; fill it in, or {fix}")
    if skipped is not None:
        skipped.extend(bad)
    examples = [r for r in rows if isinstance(r, Example)]
    if not examples:
        raise DataError(f"{path}: no examples in the file")
    return examples


def _some(lines: list[int], most: int = 10) -> str:
    shown = ", ".join(map(str, lines[:most]))
    return shown + (", ..." if len(lines) > most else "")


def _check(path, line: int, text: object, label: object, text_col: str, label_col: str | None):
    if not isinstance(text, str):
        raise DataError(f"{path}, line {line}: {text_col!r} must be a string, got {text!r}")
    if not text.strip():
        return EmptyText(line)
    if label_col is None:
        return Example(text, None, line)
    if isinstance(label, (dict, list)):
        kind = "a list" if isinstance(label, list) else "an object"
        raise DataError(
            f"{path}, line {line}: the label in {label_col!r} is {kind} "
            f"({json.dumps(label)[:40]}); a label is one string or number (one per example)"
        )
    if label is None or not str(label).strip():
        raise DataError(
            f"{path}, line {line}: no label in {label_col!r}; every training example needs one"
        )
    return Example(text, str(label).strip(), line)


def _table(content: str, path, text_col: str, label_col: str | None, delimiter: str):
    rows = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    name = "TSV" if delimiter == "\t" else "CSV"
    try:
        header = next(rows)
    except StopIteration:
        return
    except csv.Error as e:
        raise DataError(f"{path}, line 1: not valid {name} ({e})") from None
    cols = {}
    for col, option in ((text_col, "--text-col"), (label_col, "--label-col")):
        if col is None:
            continue
        if col not in header:
            raise DataError(
                f"{path}, line 1: no column {col!r} in the header (columns: "
                f"{', '.join(map(repr, header))}); name the right one with {option}"
            )
        if header.count(col) > 1:  # which one is meant cannot be guessed
            at = [str(i + 1) for i, h in enumerate(header) if h == col]
            raise DataError(
                f"{path}, line 1: the header names column {col!r} {len(at)} times (fields "
                f"{', '.join(at)}); rename all but one"
            )
        cols[col] = header.index(col)
    start = rows.line_num + 1
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(f"{path}, line {start}: not valid {name} ({e})") from None
        line, start = start, rows.line_num + 1
        if not row or row == [""]:  # a blank line
            continue
        for col, i in cols.items():
            if i >= len(row):
                raise DataError(
                    f"{path}, line {line}: {len(row)} fields, but column {col!r} "
                    f"is field {i + 1} of the header"
                )
        label = row[cols[label_col]] if label_col is not None else None
        yield _check(path, line, row[cols[text_col]], label, text_col, label_col)


def _jsonl(content: str, path, text_col: str, label_col: str | None):
    for line, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DataError(
                f"{path}, line {line}: not valid JSON ({e.msg}); JSONL needs one object per line"
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{path}, line {line}: a JSON object is needed, got {type(obj).__name__}"
            )
        for col, option in ((text_col, "--text-col"), (label_col, "--label-col")):
            if col is not None and col not in obj:
                raise DataError(
                    f"{path}, line {line}: no key {col!r} (keys: "
                    f"{', '.join(map(repr, obj))}); name the right one with {option}"
                )
        label = obj[label_col] if label_col is not None else None
        yield _check(path, line, obj[text_col], label, text_col, label_col)


def tsv_field(text: str) -> str:
    """`text` as one field of a TSV output line: backslash, tab and line breaks escaped as
    \\\\, \\t, \\n, \\r (the convention of PostgreSQL's and MySQL's text format), so a text with
    tabs or newlines (CSV and JSONL can hold them) never adds columns or rows."""
    return text.translate(_TSV_ESCAPES)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def check_labels(examples: list[Example], known: list[str], path, train: str) -> None:
    """Every label of `examples` must be one the training data has."""
    have = set(known)
    for ex in examples:
        if ex.label not in have:
            raise DataError(
                f"{path}, line {ex.line}: label {ex.label!r} never occurs in the training data "
                f"({train}); the classifier can only learn labels it has examples of"
            )
