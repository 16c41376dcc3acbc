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
from seqlab.data.stream import BPTTStream


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


@cli.command()
@quiet_option
def plugins(quiet):
    """List installed plugins: their distribution, kind, name and entry point."""
    table = Table("distribution", "kind", "name", "entry point")
    for row in registry.listing():
        table.add_row(*row)
    Console().print(table)


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
    Console().print(table)


@cli.command()
@click.argument("corpus")
@click.argument("directory", type=click.Path(path_type=Path))
@quiet_option
@user_errors
def export(corpus, directory, quiet):
    """Write CORPUS as text files into DIRECTORY (for corpora that support it)."""
    c = registry.corpus(corpus)
    if c.export is None:
        raise UserError(f"corpus {corpus!r} cannot be exported")
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
    help="Write here instead of stdout (only when everything succeeded).",
)
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
def predict(paths, texts, as_json, fmt, out, explain, bs, device, quiet):
    """Predict with the fine-tuned run in RUN_DIR (or a model directory of `seqlab
    export-model`) for each text of INPUT (a file, or - for stdin) or of --text. The run's
    task decides what a prediction is: a classifier prints label and probability per line;
    a tagger prints one `word<TAB>tag` per line, a blank line between sentences. Several
    classifier runs (e.g. a forward and a backward one, ULMFiT's bidirectional ensemble)
    predict together: their class probabilities are averaged.

    \b
    Examples:
      seqlab predict runs/mod3 --text "two thousand one" --text "nine"
      seqlab predict runs/genre reviews.txt --json
      cat sentences.txt | seqlab predict runs/genre -
      seqlab predict runs/genre-fwd runs/genre-bwd reviews.txt
      seqlab predict runs/genre reviews.txt --explain
    """
    from seqlab.tasks.predict import make_request, with_others
    from seqlab.tasks.predict import predict as run_predictor

    # run directories first; a last path that is not a directory is the INPUT
    runs, input = list(paths), None
    if len(runs) > 1 and not runs[-1].is_dir():
        input = runs.pop()
    run_dir, others = runs[0], runs[1:]

    if texts and input is not None:
        raise UserError("give the texts as INPUT (a file, or - for stdin) or with --text, not both")
    if not texts and input is None:
        raise UserError("nothing to predict: give INPUT (a file, or - for stdin) or --text TEXT")
    if input is not None and str(input) != "-" and not input.is_file():
        raise UserError(f"{input}: no such file")
    request = make_request(
        run_dir,
        texts=list(texts) or None,
        input=input,
        as_json=as_json,
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
@quiet_option
@user_errors
def export_model(run_dir, directory, quiet):
    """Write the model of RUN_DIR (its best checkpoint, else last) into DIRECTORY, a model
    directory others can load with no run directory and no token cache:

    \b
      config.json         architecture, head, label names ("seqlab_format": 1)
      model.safetensors   the weights (never code; tensor names in docs/python.md)
      tokenizer.json      word models: the vocab as a Hugging Face tokenizer
      vocab.json          character models: the character table
      README.md           model card: data, settings, scores, licence note

    `seqlab predict DIRECTORY ...` and, in Python, `seqlab.load("DIRECTORY")` read it.
    DIRECTORY must be new, empty, or an earlier export (replaced).

    \b
    Example:
      seqlab export-model runs/mod3 models/mod3
      seqlab predict models/mod3 --text "two thousand one"
    """
    from seqlab.api import load

    if not Path(run_dir).exists():
        raise UserError(f"{run_dir}: no such run directory")
    path = load(run_dir, device="cpu").save_pretrained(directory)
    status_echo(quiet)(f"wrote {', '.join(sorted(p.name for p in path.iterdir()))} to {path}")
    click.echo(path)


def main() -> None:
    cli(prog_name="seqlab")


if __name__ == "__main__":  # pragma: no cover
    main()
