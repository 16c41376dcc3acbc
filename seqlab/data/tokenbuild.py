"""Building a token cache: text parts -> vocab -> ids in memory-mapped .npy files.

Two streaming passes, so memory holds the counts and a few MiB of text, never the corpus:

  1. count tokens in the train text (the vocab never sees the validation text);
  2. encode train and valid, appending ids to `train.npy` / `valid.npy`, one file per split
     (uint16 when the vocab has at most 65,536 tokens, else uint32). Each document starts with
     xxbos: a file is one document, or each non-blank line with `doc_per_line`.

One file per split, not many shards, because BPTTStream cuts its rows from one contiguous
stream: a single memory map is read in place, while several would be joined into a copy.
Where the cache lives and when it is built is seqlab.data.tokenize's business, not this one's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tokenizers

from seqlab.data import chartokens, wordtokens
from seqlab.data.chartokens import CharEncoder
from seqlab.data.npyfile import NpyWriter
from seqlab.data.textfiles import BLOCK, Part, read_part
from seqlab.data.textsettings import FORMAT_VERSION, TextSettings
from seqlab.data.vocab import SPECIALS, UNK, Vocab
from seqlab.data.wordtokens import PRE_TOKENIZER, UNIT, WordEncoder

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


def build(
    out: Path,
    key: str,
    parts: list[Part],
    settings: TextSettings,
    progress: Progress,
    console: Console,
) -> None:
    """Write the cache files of `parts` into the directory `out`: vocab.json (and the word
    tokenizer's tokenizer.json), train.npy / valid.npy, and meta.json last."""
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
            for _, size, text in read_part(p, settings.errors, settings.doc_per_line, UNIT):
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


def _ids(parts: list[Part], encoder: WordEncoder | CharEncoder, settings: TextSettings):
    """(ids, bytes read) of the parts, in stream order, xxbos where a document starts."""
    if isinstance(encoder, CharEncoder):  # numpy does the work: big blocks cost no more
        for p in parts:
            for i, (_, size, text) in enumerate(
                read_part(p, settings.errors, settings.doc_per_line, BLOCK)
            ):
                yield encoder.documents(text, i == 0, settings.doc_per_line), size
        return
    units = (
        (wordtokens.marked(text, i == 0, settings.doc_per_line), size)
        for p in parts
        for i, (_, size, text) in enumerate(
            read_part(p, settings.errors, settings.doc_per_line, UNIT)
        )
    )
    for texts, size in wordtokens.batches(units):
        yield encoder.encode(texts), size


# -- progress (rich is imported here, when a cache is built, not by `import seqlab`) ------


def progress_bar(console: Console) -> Progress:
    """The bars of hashing, counting and tokenizing (shown on a terminal only)."""
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
