"""Plain-text files as a pretraining corpus: `seqlab pretrain PATH...`.

The files are tokenized once into the token cache (seqlab.tokenize); the run's config.json
records the files, the settings and the cache directory, so `--resume` opens the same cache,
or rebuilds it from the same files (and refuses if their content changed meanwhile).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from seqlab import Corpus, distributed, registry, tokenize
from seqlab.options import flag, options_from

SETTINGS = ("doc_per_line", "max_vocab", "min_freq", "errors", "valid_fraction")
OPTIONS = ("glob", *SETTINGS, "valid", "cache_dir")


def options(command):
    """The text-corpus options of `seqlab pretrain`: TextSettings' fields, and the files."""
    command = click.option(
        "--cache-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where token caches live [default: $SEQLAB_CACHE or ~/.cache/seqlab].",
    )(command)
    command = click.option(
        "--valid",
        multiple=True,
        metavar="PATH",
        help="Validation text (repeat for several); its words never enter the vocab.",
    )(command)
    command = options_from(tokenize.TextSettings, only=SETTINGS)(command)
    return click.option(
        "--glob",
        is_flag=True,
        help="PATHs are glob patterns, expanded by seqlab ('**' recurses): quote "
        "them, e.g. 'corpus/**/*.txt'.",
    )(command)


def pop(opts: dict[str, Any]) -> dict[str, Any]:
    """Take the text-corpus options out of the command's options."""
    return {k: opts.pop(k) for k in OPTIONS}


def resolve(
    args: tuple[str, ...], text: dict[str, Any], given: set[str], level: str = "word"
) -> tuple[str, dict | None]:
    """(corpus name, text config or None) for the command line's CORPUS / PATH..., with the
    text files' token cache built; `given`: the text options set on the command line.

    One argument that names a registered corpus is that corpus (write ./NAME for a file or
    directory of the same name); anything else is text files.
    """
    known = registry.names("seqlab.corpora")
    if len(args) == 1 and args[0] in known and not text["glob"]:
        mine = [flag(k) for k in OPTIONS if k in given]
        if mine:
            raise ValueError(
                f"{', '.join(mine)}: only for text files, not the registered corpus {args[0]!r}"
            )
        return args[0], None
    if len(args) == 1 and not text["glob"] and not Path(args[0]).exists():
        raise ValueError(
            f"{args[0]}: no such file or directory, nor a registered corpus "
            f"(installed: {', '.join(known) or 'none'})"
        )
    settings = tokenize.TextSettings(**{k: text[k] for k in SETTINGS}, level=level)
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
    config["cache"] = str(_prepare(config))
    return f"text-{_slug(args[0])}", config


def corpus(config: dict[str, Any]) -> Corpus:
    """The corpus of a run on text files: its cache, rebuilt from its files if it is gone."""
    text = config["text"]
    cache = Path(text["cache"])
    if not (cache / "meta.json").is_file():
        rebuilt = _prepare(text)
        if rebuilt.name != cache.name:
            raise ValueError(
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
