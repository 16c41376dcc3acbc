"""`seqlab lesson CORPUS`: train a corpus's named presets in turn and compare them with the
figures they reproduce (for human-numbers: fastai lesson 7's six models and the course's
accuracies). Each run is an ordinary `seqlab pretrain CORPUS --model NAME --seed S` run
directory; the comparison is printed as a table and written as lesson.csv and lesson.png.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from seqlab import Interrupted, atomic_write, registry
from seqlab.cli.options import (
    UserError,
    check_out,
    default_run_dir,
    device_option,
    locked_run,
    out_option,
    overwrite_option,
    quiet_option,
    seed_option,
    threads_option,
    user_errors,
    writable_dir,
)
from seqlab.data.stream import LAYOUTS
from seqlab.store.rundir import clear_run
from seqlab_lm import presets
from seqlab_lm.lesson_plot import plot_lesson
from seqlab_lm.settings import PretrainSettings
from seqlab_lm.training import run


@dataclass
class Result:
    """The runs of one preset: final valid accuracy and seconds of each seed."""

    model: str
    reference: float | None
    accuracies: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def sd(self) -> float:
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


def run_config(corpus, vocab, name: str, preset: dict, seed: int, overrides: dict) -> dict:
    """The config `seqlab pretrain CORPUS --model NAME --seed SEED` would run, with the
    lesson's `overrides` (--epochs, --layout, ... given to the lesson)."""
    settings = presets.apply(preset, PretrainSettings())
    settings = replace(settings, **overrides, seed=seed)
    config = settings.to_config(corpus, len(vocab), vocab.pad_idx)
    return presets.configure(config, name, preset)


def choose(known: dict, models: str | None, corpus: str) -> list[str]:
    if not known:
        raise UserError(f"corpus {corpus!r} has no presets to train")
    if models is None:
        return list(known)
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in known]
    if unknown or not names:
        raise UserError(
            f"--models {models}: unknown {', '.join(unknown) or 'empty list'}; "
            f"presets of {corpus}: {', '.join(known)}"
        )
    return names


def results_csv(results: list[Result]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "model",
            "reference_accuracy",
            "accuracy_mean",
            "accuracy_sd",
            "runs",
            "accuracies",
            "seconds_mean",
        ]
    )
    for r in results:
        ref = "" if r.reference is None else f"{r.reference:.3f}"
        accs = " ".join(f"{a:.4f}" for a in r.accuracies)
        w.writerow(
            [
                r.model,
                ref,
                f"{r.mean:.4f}",
                f"{r.sd:.4f}",
                len(r.accuracies),
                accs,
                f"{statistics.fmean(r.seconds):.1f}",
            ]
        )
    return buf.getvalue()


def results_table(results: list[Result], source: str, corpus: str) -> Table:
    table = Table(
        "model",
        f"{source} accuracy",
        "seqlab accuracy",
        "runs",
        "time per run",
        title=f"{corpus}: final valid accuracy",
    )
    for r in results:
        ref = "" if r.reference is None else f"{r.reference:.3f}"
        seconds = statistics.fmean(r.seconds)
        table.add_row(
            r.model,
            ref,
            f"{r.mean:.3f} ± {r.sd:.3f}",
            str(len(r.accuracies)),
            f"{int(seconds // 60)}:{int(seconds % 60):02d}",
        )
    return table


def list_presets(known: dict) -> None:
    table = Table("model", "reference", "what it is")
    for name, p in known.items():
        ref = p.get("reference", {})
        table.add_row(name, f"{ref['accuracy']:.3f} ({ref['source']})" if ref else "", p["help"])
    Console().print(table)


def fresh_run_dir(path: Path) -> Path:
    """A preset's run in the lesson's directory: with --overwrite, the run that was there goes."""
    clear_run(path)
    return writable_dir(path)


@click.command()
@click.argument("corpus")
@click.option(
    "--models",
    default=None,
    help="Comma-separated presets to train, e.g. model0,model5 [default: all, in order].",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Runs per preset, with seeds SEED, SEED+1, ...; the table shows mean ± sd.",
)
@seed_option("First seed (so --seeds 1 repeats `seqlab pretrain CORPUS --model NAME`).")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Train every preset this many epochs instead of its own (a quick look only: "
    "the figures are then not comparable).",
)
# not seqlab.cli.options' --layout: here the default is "each preset's own"
@click.option(
    "--layout",
    type=click.Choice(list(LAYOUTS)),
    default=None,
    help="Cut the stream this way for every preset [default: each preset's].",
)
@click.option(
    "--random-bptt/--fixed-bptt",
    default=None,
    help="Vary the training sequence length, or not, for every preset [default: each preset's].",
)
@device_option
@out_option("lesson-CORPUS")
@overwrite_option
@click.option("--list", "list_only", is_flag=True, help="List CORPUS's presets and exit.")
@threads_option
@quiet_option
@user_errors
def lesson(
    corpus,
    models,
    seeds,
    seed,
    epochs,
    layout,
    random_bptt,
    device,
    out,
    overwrite,
    list_only,
    quiet,
):
    """Train CORPUS's named presets in turn and compare them with their reference figures.

    For human-numbers these are fastai lesson 7's six models and the accuracies the course
    printed. One run per preset and seed goes into OUT/MODEL-seedS (an ordinary pretrain run
    directory); the table is printed and written to OUT/lesson.csv and OUT/lesson.png.

    \b
    Example:
      seqlab lesson human-numbers --list
      seqlab lesson human-numbers --models model0,model5 --seeds 3
    """
    known = registry.presets(corpus)
    if list_only:
        return list_presets(known)
    names = choose(known, models, corpus)
    overrides = {"device": device}
    for key, value in (("epochs", epochs), ("layout", layout), ("random_bptt", random_bptt)):
        if value is not None:
            overrides[key] = value
    vocab = registry.corpus(corpus).vocab
    configs = {
        (name, s): run_config(corpus, vocab, name, known[name], s, overrides)
        for name in names
        for s in range(seed, seed + seeds)
    }  # all built (and checked) before the first run starts
    out = check_out(out or default_run_dir(f"lesson-{corpus}"), overwrite, {}, resumable=False)
    click.get_current_context().with_resource(locked_run(out, "--out", overwrite))
    console = Console(stderr=True, quiet=quiet)
    console.print(f"runs in {out}")
    source = next(
        (known[n]["reference"]["source"] for n in names if "reference" in known[n]), "reference"
    )
    results: list[Result] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(
            "lesson", total=sum(c["train"]["epochs"] for c in configs.values())
        )

        def advance(trainer, event, n):
            if event == "epoch_end":
                progress.advance(task)

        for name in names:
            ref = known[name].get("reference", {}).get("accuracy")
            result = Result(name, ref)
            for s in range(seed, seed + seeds):
                progress.update(task, description=f"{name} seed {s}")
                start = time.perf_counter()
                try:
                    history = run(
                        configs[name, s],
                        fresh_run_dir(out / f"{name}-seed{s}"),
                        console=Console(quiet=True),
                        callbacks=[advance],
                    )
                except Interrupted as e:
                    console.print(str(e))
                    raise SystemExit(130) from None
                result.accuracies.append(history[-1]["accuracy"])
                result.seconds.append(time.perf_counter() - start)
                console.print(
                    f"{name} seed {s}: accuracy {result.accuracies[-1]:.4f} "
                    f"({result.seconds[-1]:.0f} s)",
                    highlight=False,
                )
            results.append(result)
            # Written after every preset, so a stopped lesson keeps what it finished.
            atomic_write(out / "lesson.csv", results_csv(results))
            plot_lesson(results, source, out / "lesson.png")
    Console().print(results_table(results, source, corpus))
    console.print(f"table: {out / 'lesson.csv'}, chart: {out / 'lesson.png'}")
