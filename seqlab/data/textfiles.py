"""Plain-text files for tokenization: find them, hash them, cut them into the byte ranges of
each split (`Part`), read those in line-aligned pieces.

Reading is streamed in blocks, so a file of any size costs a few MiB of memory. Each piece
ends at a line break (or, inside a giant line, at a space), so a whitespace tokenizer sees
the same tokens as if it read the whole file at once. Bad bytes are caught here, with the
file and byte offset in the message: a NUL byte (a binary or UTF-16 file) or bytes that are
not UTF-8. With errors="replace" both become U+FFFD instead.
"""

from __future__ import annotations

import glob as globlib
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ERRORS = ("strict", "replace")
BLOCK = 1 << 20  # bytes read at a time
# The longest line read (bytes without a line break, or without a space where pieces may be cut
# at spaces): far beyond any text's paragraph, and it bounds the memory one piece takes.
MAX_LINE = 64 << 20
# The longest line of a labelled file or of `predict`'s input (characters): one text to
# classify or one sentence to tag. Far beyond a real one, and it keeps the tokenizers and
# the tagger's per-character features (which take seconds per MiB) from running for minutes.
MAX_TEXT_LINE = 1 << 20
_BOM = b"\xef\xbb\xbf"


class TextFileError(ValueError):
    """A file that is not UTF-8 text (a ValueError, so the CLI shows it as one line)."""


def find_files(paths: Iterable[str | Path], glob: bool = False) -> list[Path]:
    """The files named by `paths`, in order: a file as is, a directory as every file under it
    (sorted, hidden ones left out). With `glob`, each path is a pattern (`**` recurses)."""
    found: list[Path] = []
    for raw in paths:
        if glob:
            matches = sorted(globlib.glob(str(raw), recursive=True))
            if not matches:
                raise FileNotFoundError(f"{raw}: the pattern matches no file")
            found += _expand(Path(m) for m in matches)
            continue
        p = Path(raw)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
        found += _expand([p])
    seen: set[Path] = set()
    unique = []
    for p in found:  # a file named twice (a directory and a file in it) is read once
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    if not unique:
        raise FileNotFoundError(f"no files found in {', '.join(map(str, paths))}")
    return unique


def _expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
    return out


@dataclass
class Part:
    """A byte range of a file that goes into one split."""

    path: Path
    start: int
    end: int
    split: str
    sha256: str = ""
    has_text: bool = True

    @property
    def size(self) -> int:
        return self.end - self.start


def hashed_parts(
    train: list[Path],
    valid: list[Path],
    advance: Callable[[int], None] = lambda n: None,
    warn: Callable[[str], None] = lambda msg: None,
) -> list[Part]:
    """Every non-empty file as one whole Part of its split, with its content's sha256;
    `advance(n)` hears of every n bytes hashed, `warn` of each empty file left out."""
    parts = []
    for split, files in (("train", train), ("valid", valid)):
        for path in files:
            size = path.stat().st_size
            if size == 0:
                warn(f"warning: skipping empty file {path}")
                continue
            parts.append(Part(path, 0, size, split, sha256(path, advance)))
    return parts


def split_valid(parts: list[Part], valid_fraction: float) -> list[Part]:
    """Without valid files, the last `valid_fraction` of the text (by bytes, from the next line
    start on) becomes the valid split: a new document when it starts inside a file. (With
    valid files, the parts are already split: do not call this.)"""
    total = sum(p.size for p in parts)
    cut, seen, out = total - int(total * valid_fraction), 0, []
    for p in parts:
        if seen + p.size <= cut:
            out.append(p)
        elif seen >= cut:
            out.append(Part(p.path, p.start, p.end, "valid", p.sha256))
        else:
            at = line_after(p.path, cut - seen)
            out += [
                Part(p.path, 0, at, "train", p.sha256),
                Part(p.path, at, p.end, "valid", p.sha256),
            ]
        seen += p.size
    return [p for p in out if p.size > 0]


def read_part(
    p: Part, errors: str, doc_per_line: bool, block: int = BLOCK
) -> Iterator[tuple[int, int, str]]:
    """The pieces of a part; with doc_per_line never cut inside a line (it is a document)."""
    return read_pieces(p.path, p.start, p.end, errors, not doc_per_line, block)


def sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of the file's content; `progress(n)` is told of every n bytes read."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


def line_after(path: Path, offset: int) -> int:
    """The byte offset of the first line start at or after `offset` (or the file's size)."""
    with open(path, "rb") as f:
        if offset == 0:
            return 0
        f.seek(offset - 1)
        f.readline()  # the rest of the line that `offset` falls in
        return f.tell()


def read_pieces(
    path: Path,
    start: int = 0,
    end: int | None = None,
    errors: str = "strict",
    split_long_lines: bool = True,
    block: int = BLOCK,
    max_line: int | None = None,
) -> Iterator[tuple[int, int, str]]:
    """`(byte offset, size in bytes, text)` pieces of the bytes `start:end` of `path`, each cut
    after a line break. A line longer than `block` is cut after a space when `split_long_lines`
    (else it is read whole). Raises TextFileError on a NUL byte or bad UTF-8 unless
    errors="replace", and on more than `max_line` (default MAX_LINE) bytes with no place to cut."""
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {', '.join(ERRORS)}, got {errors!r}")
    max_line = MAX_LINE if max_line is None else max_line
    with open(path, "rb") as f:
        f.seek(start)
        left = None if end is None else end - start
        offset = start
        if start == 0:  # a UTF-8 byte-order mark is not text
            head = f.read(3)
            if head == _BOM:
                offset, left = 3, None if left is None else left - 3
            else:
                f.seek(0)
        # `carry`: blocks read since the last cut, kept as a list and joined once at the next
        # cut, so a line of n bytes costs O(n) (joining at every block made it O(n^2/block))
        carry: list[bytes] = []
        carried = 0
        while True:
            data = f.read(block if left is None else min(block, left))
            if left is not None:
                left -= len(data)
            if not data:
                if carry:
                    raw = b"".join(carry)
                    yield offset, len(raw), _decode(raw, offset, path, errors)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0 and split_long_lines:
                cut = data.rfind(b" ") + 1
            if cut == 0:  # no place to cut yet: read on
                carry.append(data)
                carried += len(data)
                if carried > max_line:
                    raise TextFileError(_too_long(path, offset, max_line, split_long_lines))
                continue
            raw = b"".join([*carry, data[:cut]])
            yield offset, len(raw), _decode(raw, offset, path, errors)
            offset, carry, carried = offset + len(raw), [data[cut:]], len(data) - cut


def _decode(raw: bytes, offset: int, path: Path, errors: str) -> str:
    # A NUL byte is valid UTF-8 but never in text: it means a binary or a UTF-16 file.
    nul = raw.find(b"\0")
    if nul >= 0 and errors == "strict":
        raise TextFileError(
            f"{path}: looks binary (NUL byte at byte offset {offset + nul}); leave it out, "
            f"convert it to UTF-8 text, or pass --errors replace"
        )
    try:
        text = raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        bad = e.object[e.start : e.end].hex(" ")
        raise TextFileError(
            f"{path}: not UTF-8 at byte offset {offset + e.start} (bytes {bad}); convert it to "
            f"UTF-8, leave it out, or pass --errors replace"
        ) from None
    return text.replace("\0", "\ufffd") if nul >= 0 else text


def line_number(path: Path, offset: int) -> int:
    """The 1-based number of the line that byte `offset` of `path` falls in."""
    n, done = 1, 0
    with open(path, "rb") as f:
        while done < offset and (block := f.read(min(BLOCK, offset - done))):
            n, done = n + block.count(b"\n"), done + len(block)
    return n


def _too_long(path: Path, offset: int, limit: int, spaces: bool) -> str:
    what = "a line break or a space" if spaces else "a line break"
    return (
        f"{path}, line {line_number(path, offset)}: more than {limit >> 20} MiB without "
        f"{what}; seqlab reads lines of at most {limit >> 20} MiB (docs/reliability.md): "
        f"break the text into lines"
    )


def check_line_lengths(text: str, source: str, limit: int = MAX_TEXT_LINE) -> None:
    """A ValueError naming the first line of `text` longer than `limit` characters."""
    if len(text) <= limit:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > limit:
            raise TextFileError(
                f"{source}, line {number}: {len(line):,} characters; a line is at most "
                f"{limit:,} (docs/reliability.md): break it into lines"
            )
