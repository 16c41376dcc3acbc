"""Text files -> tokens -> ids, written once as memory-mapped .npy files and cached.

The tokens are words (seqlab.data.wordtokens: Hugging Face `tokenizers`, words and runs of
punctuation) or, with `level="char"`, characters (seqlab.data.chartokens: spaces and newlines
included, no pre-tokenizer). Two streaming passes, so memory holds the counts and a few MiB of
text, never the corpus:

  1. count tokens in the train text (the vocab never sees the validation text);
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
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tokenizers

from seqlab.data import chartokens, wordtokens
from seqlab.data.chartokens import CharEncoder
from seqlab.data.corpus import Corpus
from seqlab.data.files import umask_mode
from seqlab.data.npyfile import NpyWriter
from seqlab.data.textfiles import BLOCK, ERRORS, find_files, line_after, read_pieces, sha256
from seqlab.data.vocab import SPECIALS, UNK, Vocab
from seqlab.data.wordtokens import PRE_TOKENIZER, UNIT, WordEncoder, tokenize
from seqlab.settings import check, setting

# `tokenize` (words as the cache splits them, for readers of labelled text) and `find_files`
# are re-exported: plugins call them as seqlab.data.tokenize.tokenize / .find_files
__all__ = ["TextSettings", "cache_key", "default_cache_root", "find_files", "load", "prepare"]
__all__ += ["tokenize"]

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

FORMAT_VERSION = 1


LEVELS = ("word", "char")


@dataclass(frozen=True)
class TextSettings:
    """Everything that changes the ids (and so the cache key)."""

    doc_per_line: bool = setting(
        False, "Each non-blank line is a document (starts with xxbos); else each file is one."
    )
    max_vocab: int = setting(
        60_000,
        "Keep at most this many tokens, the most frequent; the rest become xxunk.",
        min=len(SPECIALS),
        min_open=True,  # room for one token beside the specials
    )
    min_freq: int = setting(2, "Keep only tokens seen at least this often.", min=1)
    errors: str = setting(
        "strict",
        "strict: stop at a binary or non-UTF-8 file, naming it and the byte offset; "
        "replace: read bad bytes as U+FFFD.",
        choices=ERRORS,
    )
    valid_fraction: float = setting(
        0.05,
        "Without --valid: validate on this last fraction of the text, by bytes, from a line "
        "start on.",
        min=0,
        max=1,
        min_open=True,
        max_open=True,
    )
    # word: the pre-tokenizer's words and punctuation runs; char: every character, spaces
    # and newlines included (seqlab.data.chartokens). Set by `--level`, not an option of its own.
    level: str = setting("word", "What a token is.", choices=LEVELS, cli=False)

    def __post_init__(self) -> None:
        check(self)


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
    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
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
        tmp.chmod(umask_mode(0o777))  # mkdtemp's 0700 would hide the cache from the group
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
        "settings": _key_settings(settings),
        "files": [[p.split, p.sha256] for p in parts],
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def _key_settings(settings: TextSettings) -> dict:
    """The settings in the key; `level` only when it is not word, so the caches built before
    there were levels keep their keys (and their runs can still be resumed)."""
    d = asdict(settings)
    if d["level"] == "word":
        del d["level"]
    return d


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
    encoder = CharEncoder(vocab) if settings.level == "char" else WordEncoder(vocab)
    splits = {}
    for split in ("train", "valid"):
        todo = [p for p in parts if p.split == split and p.has_text]
        if not todo:
            raise ValueError(
                f"no text left for the {split} split; "
                + ("add files" if split == "train" else "give --valid files or more text")
            )
        ids = _ids(todo, encoder, settings)
        splits[split] = _encode_split(
            out / f"{split}.npy", ids, todo, vocab, encoder.dtype, progress
        )
        unk = splits[split]["unk"] / max(splits[split]["tokens"], 1)
        console.print(
            f"{split}: {splits[split]['tokens']:,} tokens in {splits[split]['docs']:,} "
            f"documents, {unk:.2%} xxunk",
            highlight=False,
        )
    (out / "vocab.json").write_text(vocab.to_json(), encoding="utf-8")
    if isinstance(encoder, WordEncoder):
        encoder.save(out / "tokenizer.json")
    meta = {
        "format": FORMAT_VERSION,
        "key": key,
        "pre_tokenizer": PRE_TOKENIZER if settings.level == "word" else "characters",
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
        "dtype": np.dtype(encoder.dtype).name,
        "splits": splits,
        "seconds": round(time.perf_counter() - start, 3),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _count(parts: list[Part], settings: TextSettings, progress: Progress) -> tuple[Vocab, int]:
    """Pass 1: count the tokens of the train text; check every file decodes; find empty parts."""
    task = progress.add_task(f"counting {settings.level}s", total=sum(p.size for p in parts))

    def texts(split: str) -> Iterator[str]:
        for p in parts:
            if p.split != split:
                continue
            p.has_text = False
            for _, size, text in _read(p, settings, UNIT):
                p.has_text = p.has_text or not (text.isspace() or not text)
                progress.advance(task, size)
                yield text

    min_freq, max_vocab = settings.min_freq, settings.max_vocab
    if settings.level == "char":
        counts = chartokens.count(texts("train"), settings.doc_per_line)
        vocab = chartokens.build_vocab(counts, max_vocab, min_freq)
        distinct = sum(n >= min_freq for n in counts.values())
    else:
        vocab, distinct = wordtokens.count(texts("train"), min_freq, max_vocab)
    for _ in texts("valid"):  # not counted: only checked, so a bad file stops us now
        pass
    progress.remove_task(task)
    return vocab, distinct


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
    pieces: Iterator[tuple[np.ndarray, int]],
    parts: list[Part],
    vocab: Vocab,
    dtype,
    progress: Progress,
) -> dict[str, int]:
    """Pass 2: ids of every document, appended to one .npy file in batches."""
    task = progress.add_task(f"tokenizing {path.stem}", total=sum(p.size for p in parts), tokens=0)
    stats = {"tokens": 0, "docs": 0, "unk": 0}
    with NpyWriter(path, dtype) as out:
        for ids, size in pieces:
            out.append(ids)
            stats["tokens"] += len(ids)
            stats["docs"] += int(np.count_nonzero(ids == vocab.bos_idx))
            stats["unk"] += int(np.count_nonzero(ids == vocab.unk_idx))
            progress.update(task, advance=size, tokens=stats["tokens"])
    progress.remove_task(task)
    return stats


def _read(p: Part, settings: TextSettings, block: int) -> Iterator[tuple[int, int, str]]:
    """The pieces of a part; with doc_per_line never cut inside a line (it is a document)."""
    split_long_lines = not settings.doc_per_line
    return read_pieces(p.path, p.start, p.end, settings.errors, split_long_lines, block)


def _ids(parts: list[Part], encoder: WordEncoder | CharEncoder, settings: TextSettings):
    """(ids, bytes read) of the parts, in stream order, xxbos where a document starts."""
    if isinstance(encoder, CharEncoder):  # numpy does the work: big blocks cost no more
        for p in parts:
            for i, (_, size, text) in enumerate(_read(p, settings, BLOCK)):
                yield encoder.documents(text, i == 0, settings.doc_per_line), size
        return
    units = (
        (wordtokens.marked(text, i == 0, settings.doc_per_line), size)
        for p in parts
        for i, (_, size, text) in enumerate(_read(p, settings, UNIT))
    )
    for texts, size in wordtokens.batches(units):
        yield encoder.encode(texts), size


# -- progress (rich is imported here, when a cache is built, not by `import seqlab`) -------


def _progress(console: Console) -> Progress:
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

    class TokensPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            tokens = task.fields.get("tokens")
            if tokens is None or not task.elapsed:
                return Text("")
            rate = tokens / task.elapsed / 1e6
            return Text(f"{rate:.2f}M tokens/s", style="progress.data.speed")

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
