"""Plain-text files as a pretraining corpus: `seqlab pretrain PATH...`.

The files are tokenized once into the token cache (seqlab.data.tokenize); the run's config.json
records the files, the settings and the cache directory, so `--resume` opens the same cache,
or rebuilds it from the same files (and refuses if their content changed meanwhile).

Labelled files (.csv, .tsv, .jsonl: a classifier's training data) are read by seqlab.data.labelled;
the texts of their `--text-col` are written one per line beside the cache, and every line is a
document (ULMFiT's stage (b): the LM fine-tuned on the task's own texts, no extra text file).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from seqlab import Corpus, registry
from seqlab.cli.options import flag, options_from
from seqlab.data import labelled, tokenize
from seqlab.data.files import atomic_write
from seqlab.train import distributed

SETTINGS = ("doc_per_line", "max_vocab", "min_freq", "errors", "valid_fraction")
OPTIONS = ("glob", *SETTINGS, "valid", "cache_dir", "text_col", "skip_bad_rows")


def options(command):
    """The text-corpus options of `seqlab pretrain`: TextSettings' fields, and the files."""
    command = click.option(
        "--skip-bad-rows",
        is_flag=True,
        help="Labelled files: leave out rows whose text is empty (each one named), instead of "
        "stopping.",
    )(command)
    command = click.option(
        "--text-col",
        default=None,
        metavar="COL",
        help="Labelled files (.csv, .tsv with a header, .jsonl): the column (key) of the text; "
        "each row is one document, labels are ignored.  [default: text]",
    )(command)
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
    root = Path(text["cache_dir"] or tokenize.default_cache_root()).resolve()
    files = {"train": tokenize.find_files(args, text["glob"])}
    files["valid"] = tokenize.find_files(text["valid"], text["glob"]) if text["valid"] else []
    sources = [p for split in files.values() for p in split if is_labelled(p)]
    if not sources:
        mine = [flag(k) for k in ("text_col", "skip_bad_rows") if k in given]
        if mine:
            raise ValueError(f"{', '.join(mine)}: only for labelled files (.csv, .tsv, .jsonl)")
    values = {k: text[k] for k in SETTINGS}
    if sources:  # one text per row, so one document per line
        values["doc_per_line"] = True
        for split, paths in files.items():
            files[split] = [texts_of(p, text, root) if is_labelled(p) else p for p in paths]
    settings = tokenize.TextSettings(**values, level=level)
    config: dict[str, Any] = {
        "train": [str(p.resolve()) for p in files["train"]],
        "valid": [str(p.resolve()) for p in files["valid"]],
        "settings": asdict(settings),
        "cache_root": str(root),
    }
    if sources:
        config["labelled"] = {"files": [str(p) for p in sources], "text_col": text_col(text)}
    config["cache"] = str(_prepare(config, quiet=text.get("quiet", False)))
    return f"text-{_slug(args[0])}", config


def is_labelled(path: Path) -> bool:
    return path.suffix.lower() in labelled.SUFFIXES


def text_col(text: dict[str, Any]) -> str:
    return text["text_col"] or "text"


def texts_of(path: Path, text: dict[str, Any], root: Path) -> Path:
    """The texts of a labelled file, one per line (line breaks inside a text become spaces),
    in a file named by the content's hash under the cache root: the token cache is built from
    it, and a resumed run finds it there."""
    skipped: list[int] | None = [] if text["skip_bad_rows"] else None
    examples = labelled.read_examples(path, text_col(text), None, skipped=skipped)
    console = Console(stderr=True, quiet=not distributed.is_main())
    if skipped:
        shown = ", ".join(f"{path}:{line}" for line in skipped[:10])
        more = ", ..." if len(skipped) > 10 else ""
        console.print(
            f"skipped {len(skipped)} rows with an empty text: {shown}{more}",
            highlight=False,
            soft_wrap=True,
        )
    body = "".join(" ".join(e.text.splitlines()) + "\n" for e in examples)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]
    out = root / "labelled" / f"{path.stem}-{digest}.txt"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, body)
    return out


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


def _prepare(text: dict[str, Any], quiet: bool = False) -> Path:
    """Build the cache once per machine (its first process), then let every process open it."""
    console = Console(stderr=True, quiet=quiet or not distributed.is_main())
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
