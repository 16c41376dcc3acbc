"""`seqlab generate RUN --prompt TEXT`: continue a text with the language model in RUN.

The prompt is read token by token after `xxbos`, with the state carried along; then each
new token is fed back in (seqlab_lm.predict, shared with the Python facade). A word LM's
tokens are the prompt's words and punctuation runs (seqlab's tokenizer, as `seqlab pretrain
PATH` reads text) and it writes words joined by spaces; a character LM's tokens are the
prompt's characters, and it writes characters. With `--cache`, the prompt and what has
been generated so far fill the neural cache.
"""

from __future__ import annotations

import click

from seqlab import UNK
from seqlab.cli.options import UserError, quiet_option, status_echo, threads_option, user_errors
from seqlab.store import modeldir
from seqlab_lm.cache import CacheConfig
from seqlab_lm.options import CACHE_FROM, CHECKPOINT, RUN
from seqlab_lm.predict import generate_text
from seqlab_lm.scoring import load_run


@click.command()
@RUN
@click.option("--prompt", required=True, help='Text to continue, e.g. "eight thousand one ,".')
@click.option(
    "--n",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Tokens to generate (characters, for a character LM).",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Sample with this temperature (< 1: safer, > 1: wilder) [default: 1].",
)
@click.option("--greedy", is_flag=True, help="Always take the most likely token.")
@click.option(
    "--cache",
    "use_cache",
    is_flag=True,
    help="Mix in the neural cache (settings from `seqlab tune-cache RUN`, else the defaults). "
    "It copies from the prompt and what was generated, so give it a prompt of several "
    "numbers or sentences: from a few tokens it copies noise, and then its own output.",
)
@CACHE_FROM
# not seqlab.cli.options' --seed: without one, sampling differs from call to call, on purpose
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed for sampling (repeatable output).",
)
@CHECKPOINT
@threads_option
@quiet_option
@user_errors
def generate(
    run_dir, prompt, n, temperature, greedy, use_cache, cache_from, seed, checkpoint, quiet
):
    """Continue the text given with --prompt (an option, not an argument) with the language
    model in RUN (a run directory, or a model directory of `seqlab export-model`), and print
    the prompt with its continuation.

    \b
    Example:
      seqlab generate runs/human-numbers-20250101-120000 --prompt "eight thousand one ," --greedy
    """
    if greedy and temperature is not None:
        raise UserError("--greedy and --temperature exclude each other: pick one")
    if not prompt.strip():
        raise UserError("--prompt is empty: give some text to continue")
    if modeldir.is_model_dir(run_dir):  # an exported LM: its config.json has what we read
        model, vocab, config = modeldir.read(run_dir)
    else:
        model, vocab, config = load_run(run_dir, checkpoint)
    cache = CacheConfig.for_run(run_dir, cache_from)[0] if use_cache else None
    text, unknown = generate_text(
        model, vocab, config, prompt, n, None if greedy else (temperature or 1.0), seed, cache
    )
    if unknown:
        shown = " ".join(repr(t) if config.get("level") == "char" else t for t in unknown)
        status_echo(quiet)(f"note: not in the vocabulary, read as {UNK}: {shown}")
    click.echo(text)
