"""Text files -> tokens -> ids, written once as memory-mapped .npy files and cached.

The tokenizer is Hugging Face `tokenizers` (Rust): its `Whitespace` pre-tokenizer splits on the
regex `\\w+|[^\\w\\s]+` (words, and runs of punctuation), a `WordLevel` trainer counts the words
and a `WordLevel` model maps them to ids, all outside the GIL and on every core. Two streaming
passes, so memory holds the word counts and a few MiB of text, never the corpus:

  1. count words in the train text (the vocab never sees the validation text);
  2. encode train and valid, appending ids to `train.npy` / `valid.npy`, one file per split
     (uint16 when the vocab has at most 65,536 tokens, else uint32). Each document starts with
     xxbos: a file is one document, or each non-blank line with `doc_per_line`.

One file per split, not many shards, because BPTTStream cuts its rows from one contiguous
stream: a single memory map is read in place, while several would be joined into a copy.

The cache directory is named by a hash of the files' contents (in order) and every setting
that changes the ids, so a second run with the same text reuses it, renamed files included.
It is built in a temporary directory and renamed into place: never half-written, and safe
when several processes (torchrun ranks, machines on a shared disk) build it at once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tokenizers
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from seqlab.corpus import Corpus
from seqlab.textfiles import ERRORS, find_files, line_after, read_pieces, sha256
from seqlab.vocab import BOS, SPECIALS, UNK, Vocab

FORMAT_VERSION = 1
PRE_TOKENIZER = r"Whitespace: \w+|[^\w\s]+"
# tokenizers is fastest on inputs of a few KiB (measured: 2x faster than on 256 KiB, and than
# on single lines), and spreads a batch of them over its threads.
UNIT = 1 << 13  # bytes of text per input to the tokenizer
BATCH = 1 << 20  # characters per `encode_batch_fast` call (~100 bytes a token while in it)


@dataclass(frozen=True)
class TextSettings:
    """Everything that changes the ids (and so the cache key)."""

    doc_per_line: bool = False
    max_vocab: int = 60_000
    min_freq: int = 2
    errors: str = "strict"
    valid_fraction: float = 0.05  # used when no valid files are given

    def __post_init__(self) -> None:
        if self.max_vocab <= len(SPECIALS):
            raise ValueError(f"--max-vocab must be above {len(SPECIALS)} (the special tokens)")
        if self.min_freq < 1:
            raise ValueError(f"--min-freq must be at least 1, got {self.min_freq}")
        if self.errors not in ERRORS:
            raise ValueError(f"--errors must be one of {', '.join(ERRORS)}, got {self.errors!r}")
        if not 0 < self.valid_fraction < 1:
            raise ValueError(f"--valid-fraction must be between 0 and 1, got {self.valid_fraction}")


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Whitespace()


_PRE = pre_tokenizer()


def tokenize(text: str) -> list[str]:
    """The tokens of one text, as the cache builder splits them."""
    return [t for t, _ in _PRE.pre_tokenize_str(text)]


def default_cache_root() -> Path:
    """$SEQLAB_CACHE, else $XDG_CACHE_HOME/seqlab, else ~/.cache/seqlab."""
    if os.environ.get("SEQLAB_CACHE"):
        return Path(os.environ["SEQLAB_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "seqlab"


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


def prepare(
    train: Sequence[str | Path],
    valid: Sequence[str | Path] = (),
    settings: TextSettings | None = None,
    glob: bool = False,
    cache_root: Path | None = None,
    console: Console | None = None,
) -> Path:
    """The cache directory for these files and settings, built unless it exists already."""
    settings = settings or TextSettings()
    console = console or Console(stderr=True)
    root = Path(cache_root or default_cache_root()) / "text"
    train_files = find_files(train, glob)
    valid_files = find_files(valid, glob) if valid else []
    with _progress(console) as progress:
        parts = _hash_parts(train_files, valid_files, progress, console)
        key = cache_key(parts, settings)
        target = root / key
        if (target / "meta.json").is_file():
            console.print(f"using the token cache {target}", highlight=False)
            return target
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
        try:
            _build(
                tmp,
                key,
                _split_parts(parts, bool(valid_files), settings),
                settings,
                progress,
                console,
            )
            try:
                os.rename(tmp, target)
            except OSError:  # another process finished the same cache first: keep theirs
                if not (target / "meta.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def cache_key(parts: Iterable[Part], settings: TextSettings) -> str:
    """Hash of the files' contents, in order, with their split, and of the settings."""
    what = {
        "format": FORMAT_VERSION,
        "pre_tokenizer": PRE_TOKENIZER,
        "tokenizers": tokenizers.__version__,
        "settings": asdict(settings),
        "files": [[p.split, p.sha256] for p in parts],
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def load(cache_dir: Path) -> Corpus:
    """The cached corpus: vocab, and each split as one memory-mapped document stream."""
    cache_dir = Path(cache_dir)
    meta_path = cache_dir / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{cache_dir}: not a token cache (no meta.json)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    vocab = Vocab.from_json((cache_dir / "vocab.json").read_text(encoding="utf-8"))
    splits = {s: [np.load(cache_dir / f"{s}.npy", mmap_mode="r")] for s in meta["splits"]}
    counts = ", ".join(f"{s} {m['tokens']:,} tokens" for s, m in meta["splits"].items())
    return Corpus(
        f"text:{meta['key']}", vocab, splits, description=f"{meta['files']} files: {counts}"
    )


# -- building ----------------------------------------------------------------------------------


def _hash_parts(train: list[Path], valid: list[Path], progress: Progress, console: Console):
    parts = []
    total = sum(p.stat().st_size for p in train + valid)
    task = progress.add_task("hashing", total=total)
    for split, files in (("train", train), ("valid", valid)):
        for path in files:
            size = path.stat().st_size
            if size == 0:
                console.print(f"warning: skipping empty file {path}", highlight=False)
                continue
            digest = sha256(path, lambda n: progress.advance(task, n))
            parts.append(Part(path, 0, size, split, digest))
    progress.remove_task(task)
    return parts


def _split_parts(parts: list[Part], have_valid: bool, settings: TextSettings) -> list[Part]:
    """Without valid files, the last `valid_fraction` of the text (by bytes, from the next line
    start on) becomes the valid split: a new document when it starts inside a file."""
    if have_valid:
        return parts
    total = sum(p.size for p in parts)
    cut, seen, out = total - int(total * settings.valid_fraction), 0, []
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


def _build(
    out: Path,
    key: str,
    parts: list[Part],
    settings: TextSettings,
    progress: Progress,
    console: Console,
) -> None:
    start = time.perf_counter()
    vocab, distinct = _count(parts, settings, progress)
    for p in parts:
        if not p.has_text:
            console.print(
                f"warning: skipping {p.path}: no text in it"
                f"{'' if p.start == 0 else f' after byte {p.start}'}",
                highlight=False,
            )
    _report_vocab(vocab, distinct, settings, console)
    tok = Tokenizer(models.WordLevel(vocab=vocab.stoi, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizer()
    dtype = np.uint16 if len(vocab) <= 2**16 else np.uint32
    splits = {}
    for split in ("train", "valid"):
        todo = [p for p in parts if p.split == split and p.has_text]
        if not todo:
            raise ValueError(
                f"no text left for the {split} split; "
                + ("add files" if split == "train" else "give --valid files or more text")
            )
        splits[split] = _encode_split(
            out / f"{split}.npy", todo, tok, vocab, dtype, settings, progress
        )
        unk = splits[split]["unk"] / max(splits[split]["tokens"], 1)
        console.print(
            f"{split}: {splits[split]['tokens']:,} tokens in {splits[split]['docs']:,} "
            f"documents, {unk:.2%} xxunk",
            highlight=False,
        )
    (out / "vocab.json").write_text(vocab.to_json(), encoding="utf-8")
    tok.save(str(out / "tokenizer.json"))
    meta = {
        "format": FORMAT_VERSION,
        "key": key,
        "pre_tokenizer": PRE_TOKENIZER,
        "tokenizers": tokenizers.__version__,
        "settings": asdict(settings),
        "files": len({p.path for p in parts}),
        "parts": [
            {
                "path": str(p.path),
                "start": p.start,
                "end": p.end,
                "split": p.split,
                "sha256": p.sha256,
                "has_text": p.has_text,
            }
            for p in parts
        ],
        "vocab": {"size": len(vocab), "distinct": distinct},
        "dtype": np.dtype(dtype).name,
        "splits": splits,
        "seconds": round(time.perf_counter() - start, 3),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _count(parts: list[Part], settings: TextSettings, progress: Progress) -> tuple[Vocab, int]:
    """Pass 1: count the words of the train text; check every file decodes; find empty parts."""
    task = progress.add_task("counting words", total=sum(p.size for p in parts))

    def texts(split: str) -> Iterator[str]:
        for p in parts:
            if p.split != split:
                continue
            p.has_text = False
            for _, size, text in read_pieces(p.path, p.start, p.end, settings.errors, block=UNIT):
                p.has_text = p.has_text or not (text.isspace() or not text)
                progress.advance(task, size)
                yield text

    counter = Tokenizer(models.WordLevel(unk_token=UNK))
    counter.pre_tokenizer = pre_tokenizer()
    trainer = trainers.WordLevelTrainer(
        vocab_size=2**31, min_frequency=settings.min_freq, special_tokens=[], show_progress=False
    )
    counter.train_from_iterator(texts("train"), trainer=trainer)
    for _ in texts("valid"):  # not counted: only checked, so a bad file stops us now
        pass
    progress.remove_task(task)
    # WordLevel ids run by count, descending, ties in string order: take the first ones.
    words = [w for w, _ in sorted(counter.get_vocab().items(), key=lambda kv: kv[1])]
    kept = [w for w in words if w not in SPECIALS][: settings.max_vocab - len(SPECIALS)]
    return Vocab(list(SPECIALS) + kept), len(words)


def _report_vocab(vocab: Vocab, distinct: int, settings: TextSettings, console: Console) -> None:
    words = len(vocab) - len(SPECIALS)
    seen = f"{distinct:,} distinct tokens seen at least {settings.min_freq} time(s)"
    if words < distinct:
        console.print(
            f"vocab: capped at --max-vocab {settings.max_vocab:,}: kept the {words:,} "
            f"most frequent of {seen}; the other {distinct - words:,} become {UNK}",
            highlight=False,
        )
    else:
        console.print(
            f"vocab: {len(vocab):,} tokens ({len(SPECIALS)} special, {seen})", highlight=False
        )


def _encode_split(
    path: Path,
    parts: list[Part],
    tok: Tokenizer,
    vocab: Vocab,
    dtype,
    settings: TextSettings,
    progress: Progress,
) -> dict[str, int]:
    """Pass 2: ids of every document, appended to one .npy file in batches."""
    task = progress.add_task(f"tokenizing {path.stem}", total=sum(p.size for p in parts), tokens=0)
    stats = {"tokens": 0, "docs": 0, "unk": 0}
    with NpyWriter(path, dtype) as out:
        for texts, size in _batches(_units(parts, settings)):
            ids = encode(tok, texts, dtype)
            out.append(ids)
            stats["tokens"] += len(ids)
            stats["docs"] += int(np.count_nonzero(ids == vocab.bos_idx))
            stats["unk"] += int(np.count_nonzero(ids == vocab.unk_idx))
            progress.update(task, advance=size, tokens=stats["tokens"])
    progress.remove_task(task)
    return stats


def _units(parts: list[Part], settings: TextSettings) -> Iterator[tuple[str, int]]:
    """(text, bytes read) in stream order, each document's start marked by the word xxbos, as
    fastai does: the vocab maps it to its id, so no document needs its own encode call."""
    for p in parts:
        pieces = read_pieces(
            p.path,
            p.start,
            p.end,
            settings.errors,
            split_long_lines=not settings.doc_per_line,
            block=UNIT,
        )
        for i, (_, size, text) in enumerate(pieces):
            if settings.doc_per_line:
                lines = [line for line in text.split("\n") if line and not line.isspace()]
                yield "".join(f"{BOS} {line}\n" for line in lines), size
            else:
                yield f"{BOS} {text}" if i == 0 else text, size


def _batches(units: Iterator[tuple[str, int]]) -> Iterator[tuple[list[str], int]]:
    """Units grouped into batches of about BATCH characters (one encode call each)."""
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


def encode(tok: Tokenizer, texts: list[str], dtype) -> np.ndarray:
    """The ids of `texts`, joined."""
    ids = [e.ids for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
    n = sum(map(len, ids))
    return np.fromiter(itertools.chain.from_iterable(ids), dtype=dtype, count=n)


class NpyWriter:
    """Append to a 1-d .npy file whose length is unknown until the end: the header has a fixed
    size and is rewritten on close (the file is then an ordinary .npy for np.load / mmap)."""

    HEADER = 128  # bytes, a multiple of 64 as the .npy format asks, room for any length

    def __init__(self, path: Path, dtype):
        self.path, self.dtype, self.n = Path(path), np.dtype(dtype), 0
        self.f = open(self.path, "wb")  # noqa: SIM115  (closed in close())
        self.f.write(b"\0" * self.HEADER)

    def append(self, ids: np.ndarray) -> None:
        self.f.write(np.ascontiguousarray(ids, dtype=self.dtype).tobytes())
        self.n += len(ids)

    def close(self) -> None:
        self.f.seek(0)
        self.f.write(npy_header(self.dtype, self.n, self.HEADER))
        self.f.close()

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def npy_header(dtype: np.dtype, n: int, size: int) -> bytes:
    """A version 1.0 .npy header of exactly `size` bytes for a 1-d array of n items."""
    d = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)}
    body = repr(d).encode("latin1")
    pad = size - 10 - len(body) - 1
    if pad < 0:
        raise ValueError(f"npy header for {n} items does not fit in {size} bytes")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size - 10) + body + b" " * pad + b"\n"


# -- progress ----------------------------------------------------------------------------------


class TokensPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        tokens = task.fields.get("tokens")
        if tokens is None or not task.elapsed:
            return Text("")
        return Text(f"{tokens / task.elapsed / 1e6:.2f}M tokens/s", style="progress.data.speed")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TokensPerSecond(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
