"""`seqlab evaluate RUN` and `seqlab tune-cache RUN`: score a language model, with and
without the neural cache, and tune the cache on the held-out tail of train."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from seqlab import atomic_write
from seqlab.cli.options import (
    UserError,
    device_option,
    quiet_option,
    status_echo,
    threads_option,
    user_errors,
)
from seqlab.settings import SettingError
from seqlab.train.trainer import resolve_device
from seqlab_lm.cache import CacheConfig
from seqlab_lm.options import BS, CACHE_FROM, CHECKPOINT, RUN
from seqlab_lm.scoring import SPLITS, Tally, load_run, score, split_stream, tune


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    fields = [
        "by",
        "token",
        "errors",
        "total",
        "error_rate",
        "most_predicted",
        "most_predicted_count",
    ]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "error_rate": f"{r['error_rate']:.4f}"})
    return buf.getvalue()


def _print_errors(title: str, rows: list[dict], by: str, top: int) -> None:
    chosen = [r for r in rows if r["by"] == by][:top]
    click.echo(f"\n{title}")
    click.echo(f"  {by:<12}{'errors':>8}{'of':>8}{'rate':>8}   most often predicted instead")
    for r in chosen:
        click.echo(
            f"  {r['token']:<12}{r['errors']:>8}{r['total']:>8}{r['error_rate']:>8.1%}"
            f"   {r['most_predicted']} ({r['most_predicted_count']})"
        )


@click.command()
@RUN
@click.option(
    "--split",
    type=click.Choice(SPLITS),
    default="valid",
    show_default=True,
    help="valid: the corpus' valid split; holdout: the tail of train the run "
    "held out (--holdout), else its last 10%.",
)
@click.option(
    "--cache",
    "use_cache",
    is_flag=True,
    help="Also score with the neural cache (settings from `seqlab tune-cache RUN`, "
    "else the defaults).",
)
@click.option(
    "--errors",
    is_flag=True,
    help="Print the most frequent errors by target token and by previous token, and "
    "write them to RUN/errors-SPLIT[-cache].csv.",
)
@CACHE_FROM
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Error groups to print.",
)
@BS
@CHECKPOINT
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@threads_option
@quiet_option
@user_errors
def evaluate(
    run_dir, split, use_cache, cache_from, errors, top, bs, checkpoint, device, as_json, quiet
):
    """Loss, accuracy and perplexity of the language model in RUN, with and without the
    neural cache (Grave et al. 2017).

    \b
    Example:
      seqlab evaluate runs/human-numbers-20250101-120000 --cache --errors
    """
    status = status_echo(quiet)
    model, vocab, config = load_run(run_dir, checkpoint)
    cache, tuned = CacheConfig.for_run(run_dir, cache_from) if use_cache else (None, {})
    stream = split_stream(config, split, bs)
    if tuned.get("bs") not in (None, stream.bs):
        status(
            f"note: the cache was tuned reading {tuned['bs']} rows, here {stream.bs}: "
            f"tune with the same --bs for the best settings"
        )
    plain, cached = score(model, stream, cache, resolve_device(device), errors)
    rows: list[tuple[str, Tally]] = [("model", plain)]
    if cached is not None:
        rows.append(("model+cache", cached))
    if as_json:
        out = {name: t.metrics() for name, t in rows}
        if cache is not None:
            out["cache"] = {"lam": cache.lam, "theta": cache.theta, "window": cache.window}
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"{run_dir} ({checkpoint}), {split}: {plain.n:,} predictions, "
            f"bs {stream.bs}, bptt {stream.bptt}"
        )
        click.echo(f"  {'':<14}{'loss':>10}{'accuracy':>10}{'perplexity':>12}")
        for name, t in rows:
            m = t.metrics()
            click.echo(
                f"  {name:<14}{m['loss']:>10.4f}{m['accuracy']:>10.4f}{m['perplexity']:>12.4f}"
            )
        if cache is not None:
            click.echo(f"  cache: {cache.describe()} ({tuned['source']})")
    if errors:
        name, tally = rows[-1]
        error_rows = tally.error_rows(vocab)
        path = Path(run_dir) / f"errors-{split}{'-cache' if cached else ''}.csv"
        atomic_write(path, _csv(error_rows))
        if not as_json:
            _print_errors(
                f"errors of {name} by target (the token that came)", error_rows, "target", top
            )
            _print_errors(
                f"errors of {name} by previous token (the input)", error_rows, "previous", top
            )
        status(f"errors written to {path}")


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}") from None


@click.command("tune-cache")
@RUN
@click.option(
    "--windows",
    default="50,100,200,500,1000,2000",
    show_default=True,
    help="Cache sizes W to try (comma-separated).",
)
@click.option(
    "--thetas",
    default="0.03,0.1,0.3,0.5,1,1.5,2,3,5,10,20",
    show_default=True,
    help="Flatness theta to try: larger trusts the most similar state more.",
)
@click.option(
    "--lams",
    default=",".join(f"{i / 20:g}" for i in range(0, 20)),
    show_default=True,
    help="Interpolation lam to try (0: model only).",
)
@click.option(
    "--metric",
    type=click.Choice(["accuracy", "loss"]),
    default="accuracy",
    show_default=True,
    help="What the winner is best at (ties go to the lower loss). The loss (perplexity, as "
    "in the paper) favours a smaller lam: the cache is trusted less where the model is "
    "confidently wrong.",
)
@click.option(
    "--holdout",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.1,
    show_default=True,
    help="Tail of train to tune on, when RUN was not trained with --holdout "
    "(then the model has seen it; tune on a --holdout run when you can).",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Tune on at most this many predictions (the outputs are kept in memory).",
)
@BS
@CHECKPOINT
@device_option
@threads_option
@quiet_option
@user_errors
def tune_cache(
    run_dir, windows, thetas, lams, metric, holdout, max_tokens, bs, checkpoint, device, quiet
):
    """Tune the neural cache (lam, theta, window) of the LM in RUN on the held-out tail of
    train (best accuracy, or lowest loss with --metric loss) and store the winner in
    RUN/cache.json, where
    `seqlab evaluate --cache` and `seqlab generate --cache` find it. Never tunes on valid.

    \b
    Example:
      seqlab tune-cache runs/human-numbers-20250101-120000
    """
    windows_ = [int(w) for w in _floats(windows)]
    grid = {"windows": windows_, "thetas": _floats(thetas), "lams": _floats(lams)}
    for option, values in grid.items():  # before the work, each value as CacheConfig checks it
        for value in values:
            try:
                CacheConfig(**{option[:-1]: value})
            except SettingError as e:
                raise UserError(f"--{option} {value:g}: {e.problem}") from None
    model, _, config = load_run(run_dir, checkpoint)
    held = config["data"].get("holdout") or 0.0
    status = status_echo(quiet)
    if not held:
        status(
            f"note: {run_dir} was trained on all of train, so the model has seen its "
            f"last {holdout:.0%} and the cache will look less useful than on new text. "
            "Better: tune a run trained with --holdout and pass it to --cache-from."
        )
    stream = split_stream(config, "holdout", bs, holdout)
    results = tune(model, stream, device=resolve_device(device), max_tokens=max_tokens, **grid)
    # Among equal scores the largest window wins (windows longer than the held-out rows all
    # score the same, and longer text gains from a longer memory).
    first = (lambda r: -r["accuracy"]) if metric == "accuracy" else (lambda r: 0.0)
    results.sort(key=lambda r: (first(r), r["loss"], -r["window"]))
    best = results[0]
    plain = next(r for r in results if r["lam"] == 0.0) if 0.0 in grid["lams"] else None
    chosen = CacheConfig(lam=best["lam"], theta=best["theta"], window=best["window"])
    path = chosen.save(
        run_dir,
        {
            "tuned_on": f"holdout {held or holdout:g}, {checkpoint}, best {metric}",
            "loss": best["loss"],
            "accuracy": best["accuracy"],
            "bs": stream.bs,
        },
    )
    click.echo(f"tuned on the held-out tail of train: {best['n']:,} predictions, bs {stream.bs}")
    click.echo(f"  {'':<14}{'loss':>10}{'accuracy':>10}")
    if plain is not None:
        click.echo(f"  {'model':<14}{plain['loss']:>10.4f}{plain['accuracy']:>10.4f}")
    click.echo(
        f"  {'model+cache':<14}{best['loss']:>10.4f}{best['accuracy']:>10.4f}   {chosen.describe()}"
    )
    status(f"wrote {path}")
