"""Plain-text files as a pretraining corpus: `seqlab pretrain PATH...`.

The files are tokenized once into the token cache (seqlab.tokenize); the run's config.json
records the files, the settings and the cache directory, so `--resume` opens the same cache,
or rebuilds it from the same files (and refuses if their content changed meanwhile).
"""

from __future__ import annotations

import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from seqlab import Corpus, UserError, distributed, registry, tokenize

OPTIONS = (
    "glob",
    "doc_per_line",
    "max_vocab",
    "min_freq",
    "errors",
    "valid",
    "valid_fraction",
    "cache_dir",
)
_D: dict[str, Any] = {f.name: f.default for f in fields(tokenize.TextSettings)}


def options(command):
    """The text-corpus options of `seqlab pretrain`."""
    for option in reversed(
        [
            click.option(
                "--glob",
                is_flag=True,
                help="PATHs are glob patterns, expanded by seqlab ('**' recurses): quote "
                "them, e.g. 'corpus/**/*.txt'.",
            ),
            click.option(
                "--doc-per-line",
                is_flag=True,
                help="Each non-blank line is a document (starts with xxbos) "
                "[default: each file is one document].",
            ),
            click.option(
                "--max-vocab",
                type=int,
                default=None,
                help=f"Keep at most this many tokens, the most frequent; the rest become "
                f"xxunk [default: {_D['max_vocab']}].",
            ),
            click.option(
                "--min-freq",
                type=int,
                default=None,
                help=f"Keep only tokens seen at least this often [default: {_D['min_freq']}].",
            ),
            click.option(
                "--errors",
                type=click.Choice(tokenize.ERRORS),
                default=None,
                help="strict: stop at a binary or non-UTF-8 file, naming it and the byte "
                "offset; replace: read bad bytes as U+FFFD [default: strict].",
            ),
            click.option(
                "--valid",
                multiple=True,
                metavar="PATH",
                help="Validation text (repeat for several); its words never enter the vocab.",
            ),
            click.option(
                "--valid-fraction",
                type=float,
                default=None,
                help=f"Without --valid: validate on this last fraction of the text, by "
                f"bytes, from a line start on [default: {_D['valid_fraction']}].",
            ),
            click.option(
                "--cache-dir",
                type=click.Path(path_type=Path),
                default=None,
                help="Where token caches live [default: $SEQLAB_CACHE or ~/.cache/seqlab].",
            ),
        ]
    ):
        command = option(command)
    return command


def pop(opts: dict[str, Any]) -> dict[str, Any]:
    """Take the text-corpus options out of the command's options."""
    return {k: opts.pop(k) for k in OPTIONS}


def resolve(args: tuple[str, ...], text: dict[str, Any]) -> tuple[str, Corpus, dict | None]:
    """(corpus name, corpus, text config or None) for the command line's CORPUS / PATH...

    One argument that names a registered corpus is that corpus (write ./NAME for a file or
    directory of the same name); anything else is text files.
    """
    known = registry.names("seqlab.corpora")
    if len(args) == 1 and args[0] in known and not text["glob"]:
        given = [f"--{k.replace('_', '-')}" for k, v in text.items() if v not in (None, False, ())]
        if given:
            raise UserError(
                f"{', '.join(given)}: only for text files, not the registered corpus {args[0]!r}"
            )
        return args[0], registry.corpus(args[0]), None
    if len(args) == 1 and not text["glob"] and not Path(args[0]).exists():
        raise UserError(
            f"{args[0]}: no such file or directory, nor a registered corpus "
            f"(installed: {', '.join(known) or 'none'})"
        )
    settings = tokenize.TextSettings(
        **{
            k: text[k] if text[k] is not None else _D[k]
            for k in ("max_vocab", "min_freq", "errors", "valid_fraction")
        },
        doc_per_line=text["doc_per_line"],
    )
    train = [str(p.resolve()) for p in tokenize.find_files(args, text["glob"])]
    valid = (
        [str(p.resolve()) for p in tokenize.find_files(text["valid"], text["glob"])]
        if text["valid"]
        else []
    )
    root = text["cache_dir"] or tokenize.default_cache_root()
    config = {
        "train": train,
        "valid": valid,
        "settings": asdict(settings),
        "cache_root": str(Path(root).resolve()),
    }
    cache = _prepare(config)
    config["cache"] = str(cache)
    return f"text-{_slug(args[0])}", tokenize.load(cache), config


def corpus(config: dict[str, Any]) -> Corpus:
    """The corpus of a run on text files: its cache, rebuilt from its files if it is gone."""
    text = config["text"]
    cache = Path(text["cache"])
    if not (cache / "meta.json").is_file():
        rebuilt = _prepare(text)
        if rebuilt.name != cache.name:
            raise UserError(
                f"the token cache {cache} is gone and the text files changed since "
                f"the run started, so its data cannot be rebuilt"
            )
        cache = rebuilt
    return tokenize.load(cache)


def _prepare(text: dict[str, Any]) -> Path:
    """Build the cache once per machine (its first process), then let every process open it."""
    console = Console(stderr=True, quiet=not distributed.is_main())
    return distributed.wait_for_local_main(
        lambda: tokenize.prepare(
            text["train"],
            text["valid"],
            tokenize.TextSettings(**text["settings"]),
            cache_root=Path(text["cache_root"]),
            console=console,
        )
    )


def _slug(path: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "", Path(path.split("*")[0]).name)
    return name or "corpus"
