"""The token cache: text files -> tokens -> ids, built once per content and settings.

This module owns the cache's life, each step once: find the files (seqlab.data.textfiles),
hash them into parts, key the cache by the parts' contents (in order) and every setting that
changes the ids (TextSettings), and open the cache with that key, or build it
(seqlab.data.tokenbuild: the vocab and ids) in a temporary directory renamed into place —
never half-written, and safe when several processes (torchrun ranks, machines on a shared
disk) build it at once. A second run with the same text reuses it, renamed files included.

The tokens are words (seqlab.data.wordtokens: Hugging Face `tokenizers`, words and runs of
punctuation) or, with `level="char"`, characters (seqlab.data.chartokens).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tokenizers

from seqlab.data.corpus import Corpus
from seqlab.data.files import umask_mode
from seqlab.data.textfiles import Part, find_files, hashed_parts, split_valid
from seqlab.data.textsettings import FORMAT_VERSION, TextSettings
from seqlab.data.tokenbuild import build, progress_bar
from seqlab.data.vocab import Vocab
from seqlab.data.wordtokens import PRE_TOKENIZER, tokenize

# Re-exported, the public face of the cache (`from seqlab import tokenize`): TextSettings,
# `tokenize` (words as the cache splits them, for readers of labelled text) and `find_files`.
__all__ = ["TextSettings", "cache_key", "default_cache_root", "find_files", "load", "prepare"]
__all__ += ["tokenize"]

if TYPE_CHECKING:
    from rich.console import Console


def default_cache_root() -> Path:
    """$SEQLAB_CACHE, else $XDG_CACHE_HOME/seqlab, else ~/.cache/seqlab."""
    if os.environ.get("SEQLAB_CACHE"):
        return Path(os.environ["SEQLAB_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "seqlab"


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
    files = train_files + valid_files
    with progress_bar(console) as progress:
        task = progress.add_task("hashing", total=sum(p.stat().st_size for p in files))
        parts = hashed_parts(
            train_files,
            valid_files,
            lambda n: progress.advance(task, n),
            lambda msg: console.print(msg, highlight=False),
        )
        progress.remove_task(task)
        key = cache_key(parts, settings)
        target = root / key
        if (target / "meta.json").is_file():
            console.print(f"using the token cache {target}", highlight=False)
            return target
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
        tmp.chmod(umask_mode(0o777))  # mkdtemp's 0700 would hide the cache from the group
        try:
            split = parts if valid_files else split_valid(parts, settings.valid_fraction)
            build(tmp, key, split, settings, progress, console)
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
