"""The `seqlab` command. Core commands live here; plugins add theirs through the
`seqlab.commands` and `seqlab.finetune` entry-point groups, loaded only when used."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from seqlab import registry
from seqlab.cli.options import (
    POSITIVE,
    UserError,
    device_option,
    layout_option,
    quiet_option,
    status_echo,
    threads_option,
    user_errors,
    writable_dir,
)
from seqlab.data.files import input_problem
from seqlab.data.stream import BPTTStream
from seqlab.store import modeldir
from seqlab.store.checkpoint import has_checkpoint
from seqlab.store.rundir import find_runs
from seqlab.store.targets import check_dir, check_file


def holds_model(path: Path) -> bool:
    """A run directory with a checkpoint, or an exported model directory: what predict loads."""
    return path.is_dir() and (
        modeldir.is_model_dir(path) or any(has_checkpoint(path / s) for s in ("best", "last"))
    )


def first_rank() -> bool:
    """False in every torchrun process but rank 0 (from torchrun's RANK, set before the
    process group is joined), so a user error is printed once, not once per process."""
    return os.environ.get("RANK", "0") == "0"


class PluginGroup(click.Group):
    """A group whose extra commands come from an entry-point group, imported on use."""

    def __init__(self, *args, entry_group: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.entry_group = entry_group

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(registry.names(self.entry_group)))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's own usage errors in one line (click prints usage, a hint and the error on
        three), with the exit code click gives them (2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            where = f"; see `{e.ctx.command_path} --help`" if e.ctx is not None else ""
            if first_rank():
                click.echo(f"Error: {e.format_message().rstrip('.')}{where}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            if first_rank():
                e.show()
            sys.exit(e.exit_code)
        except click.Abort:  # Ctrl-C outside training (reading data, scoring): nothing to save
            if first_rank():
                click.echo("Interrupted.", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

    def get_command(self, ctx, name):
        if name in self.commands:
            return self.commands[name]
        if name in registry.names(self.entry_group):
            return registry.load(self.entry_group, name)
        return None


@click.group(
    cls=PluginGroup,
    entry_group="seqlab.commands",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="seqlab")
def cli():
    """seqlab: stateful recurrent language models, and the taggers and classifiers
    fine-tuned from them.

    \b
    Start with:
      seqlab pretrain human-numbers     train the lesson-7 language model
      seqlab show-batch human-numbers   see how the batches join up
      seqlab plugins                    what is installed
    """


@cli.group(cls=PluginGroup, entry_group="seqlab.finetune")
def finetune():
    """Fine-tune a pretrained encoder with a new head (tasks come from plugins)."""


def table_console() -> Console:
    """A console for tables: the terminal's width, or, when piped, wide enough that no column
    is cut (rich takes 80 columns when stdout is not a terminal)."""
    return Console() if sys.stdout.isatty() else Console(width=10_000)


@cli.command()
@quiet_option
def plugins(quiet):
    """List installed plugins: their distribution, kind, name and entry point."""
    table = Table("distribution", "kind", "name", "entry point")
    for row in registry.listing():
        table.add_row(*row)
    table_console().print(table)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default="runs", required=False)
@quiet_option
@user_errors
def runs(directory, quiet):
    """List the runs in DIRECTORY [default: runs]: kind, data, the best checkpoint's headline,
    epochs done of planned, when last saved, and size."""
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory (runs are written under runs/)")
    found = find_runs(directory)
    if not found:
        status_echo(quiet)(f"no runs in {directory}")
        return
    table = Table("run", "kind", "data", "best", "epochs", "when", "size")
    for r in found:
        size = f"{r['size'] / 2**20:.1f} MiB"
        table.add_row(r["path"], r["kind"], r["data"], r["best"], r["epochs"], r["when"], size)
    table_console().print(table)


@cli.command("show-batch")
@click.argument("corpus")
@click.option("--split", default="train", show_default=True, help="Which split to batch.")
@click.option("--bs", type=POSITIVE, default=64, show_default=True, help="Rows per batch.")
@click.option(
    "--bptt", type=POSITIVE, default=70, show_default=True, help="Tokens per row per batch."
)
@layout_option
@click.option("--batch", "batch_no", default=1, show_default=True, help="Which batch (1-based).")
@click.option("--rows", type=POSITIVE, default=5, show_default=True, help="How many rows to show.")
@click.option("--tsv", is_flag=True, help="Print idx<TAB>text lines only, for piping.")
@quiet_option
@user_errors
def show_batch(corpus, split, bs, bptt, layout, batch_no, rows, tsv, quiet):
    """Show the first rows of one batch of CORPUS as text, like fastai's show_batch.

    Row r of batch k+1 continues row r of batch k: compare `--batch 1` and `--batch 2`.
    """
    c = registry.corpus(corpus)
    stream = BPTTStream(c.split(split), bs=bs, bptt=bptt, layout=layout)
    if not 1 <= batch_no <= len(stream):
        raise UserError(f"--batch {batch_no}: this split has batches 1..{len(stream)}")
    x, _ = next(itertools.islice(stream, batch_no - 1, None))
    texts = [c.vocab.textify(row) for row in x[:rows].tolist()]
    if tsv:
        click.echo("".join(f"{i}\t{t}\n" for i, t in enumerate(texts)), nl=False)
        return
    table = Table(
        "idx",
        "text",
        title=f"{corpus} {split}: batch {batch_no} of {len(stream)}, x is {tuple(x.shape)}",
    )
    for i, t in enumerate(texts):
        table.add_row(str(i), t)
    table_console().print(table)


@cli.command()
@click.argument("corpus")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--overwrite",
    is_flag=True,
    help="Write into a DIRECTORY that is not empty, replacing the corpus's files there.",
)
@quiet_option
@user_errors
def export(corpus, directory, overwrite, quiet):
    """Write CORPUS as text files into DIRECTORY (for corpora that support it). DIRECTORY must
    be new or empty (else --overwrite), and not inside a run or model directory."""
    c = registry.corpus(corpus)
    if c.export is None:
        raise UserError(f"corpus {corpus!r} cannot be exported")
    check_dir(directory, "DIRECTORY", overwrite)
    for path in c.export(writable_dir(directory, "DIRECTORY")):
        click.echo(path)


@cli.command()
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    metavar="RUN_DIR... [INPUT]",
    type=click.Path(path_type=Path, allow_dash=True),
)
@click.option(
    "--text",
    "texts",
    multiple=True,
    help="A text to predict for (repeat for more); instead of INPUT.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output: one JSON object per input line.",
)
@click.option(
    "--entities",
    is_flag=True,
    help="Taggers of BIO/BIOES tags: one JSON object per sentence with its named entities "
    "(text, type, start and end word, start_char and end_char, score).",
)
@click.option(
    "--format",
    "fmt",
    default=None,
    help="Input (and output) format, as the run's "
    "task reads it: classifiers read lines (default), csv, tsv or jsonl (the text "
    "column the run was trained with); taggers read conll or conllu.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write here instead of stdout (only when everything succeeded). Never the INPUT, "
    "nor a file in a run or model directory; an existing file only with --overwrite.",
)
@click.option("--overwrite", is_flag=True, help="Replace the --out file if it exists.")
@click.option(
    "--explain",
    is_flag=True,
    help="Also list what weighed most for each prediction (classifiers with the n-gram "
    "channel: the n-grams and their weights toward the predicted label).",
)
@click.option("--bs", type=POSITIVE, default=64, show_default=True, help="Examples per batch.")
@device_option
@threads_option
@quiet_option
@user_errors
def predict(paths, texts, as_json, entities, fmt, out, overwrite, explain, bs, device, quiet):
    """Predict with the fine-tuned run in RUN_DIR (or a model directory of `seqlab
    export-model`) for each text of INPUT (a file, or - for stdin) or of --text. The run's
    task decides what a prediction is: a classifier prints label and probability per line;
    a tagger prints one `word<TAB>tag` per line, a blank line between sentences (plain text
    is split into sentences and words first; --entities gives the named entities). Several
    classifier runs (e.g. a forward and a backward one, ULMFiT's bidirectional ensemble)
    predict together: their class probabilities are averaged.

    \b
    Examples:
      seqlab predict runs/parity --text "two thousand one" --text "nine"
      seqlab predict runs/genre reviews.txt --json
      cat sentences.txt | seqlab predict runs/genre -
      seqlab predict runs/genre-fwd runs/genre-bwd reviews.txt
      seqlab predict runs/ner news.txt --entities
      seqlab predict runs/genre reviews.txt --explain
    """
    from seqlab.tasks.predict import make_request, with_others
    from seqlab.tasks.predict import predict as run_predictor

    # run directories first; a last path that is not a run (or model) directory is the INPUT
    runs, input = list(paths), None
    if len(runs) > 1 and not (texts and runs[-1].is_dir()) and not holds_model(runs[-1]):
        input = runs.pop()
    run_dir, others = runs[0], runs[1:]

    if texts and input is not None:
        raise UserError("give the texts as INPUT (a file, or - for stdin) or with --text, not both")
    if not texts and input is None:
        raise UserError("nothing to predict: give INPUT (a file, or - for stdin) or --text TEXT")
    if input is not None and str(input) != "-" and (problem := input_problem(input)):
        raise UserError(f"INPUT {problem}")
    if out is not None:  # before any work: never over the input, a run, or a file unasked
        check_file(out, "--out", overwrite, reading=[*runs, *([input] if input else [])])
    request = make_request(
        run_dir,
        texts=list(texts) or None,
        input=input,
        as_json=as_json,
        entities=entities,
        format=fmt,
        bs=bs,
        device=device,
        explain=explain,
    )
    result = run_predictor(with_others(request, others))
    if out is None:
        click.echo(result, nl=False)
    else:
        from seqlab.data.files import atomic_write

        atomic_write(out, result)
        status_echo(quiet)(f"wrote {out}")


@cli.command("export-model")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace the earlier export in DIRECTORY.")
@quiet_option
@user_errors
def export_model(run_dir, directory, overwrite, quiet):
    """Write the model of RUN_DIR (its best checkpoint, else last) into DIRECTORY, a model
    directory others can load with no run directory and no token cache:

    \b
      config.json         architecture, head, label names ("seqlab_format": 1)
      model.safetensors   the weights (never code; tensor names in docs/python.md)
      tokenizer.json      word models: the vocab as a Hugging Face tokenizer
      vocab.json          character models: the character table
      README.md           model card: data, settings, scores, licence note

    `seqlab predict DIRECTORY ...` and, in Python, `seqlab.load("DIRECTORY")` read it.
    DIRECTORY must be new or empty, or an earlier export (replaced with --overwrite); never
    the run, nor inside a run or another model directory.

    \b
    Example:
      seqlab export-model runs/parity models/parity
      seqlab predict models/parity --text "two thousand one"
    """
    from seqlab.api import load

    if not Path(run_dir).exists():
        raise UserError(f"{run_dir}: no such run directory")
    check_dir(directory, "DIRECTORY", overwrite, reading=[run_dir], model=True)
    predictor = load(run_dir, device="cpu")
    path = predictor.save_pretrained(directory, overwrite=True)  # checked above
    status_echo(quiet)(f"wrote {', '.join(sorted(p.name for p in path.iterdir()))} to {path}")
    click.echo(path)


def main() -> None:
    cli(prog_name="seqlab")


if __name__ == "__main__":  # pragma: no cover
    main()
