"""`seqlab generate RUN --prompt TEXT`: continue a text with the language model in RUN.

The prompt is read token by token after `xxbos`, with the state carried along; then each
new token is fed back in. A word LM's tokens are the prompt's whitespace-separated words (as
the corpus was tokenised) and it writes words joined by spaces; a character LM's tokens are
the prompt's characters, and it writes characters. With `--cache`, the prompt and what has
been generated so far fill the neural cache.
"""

from __future__ import annotations

import click
import torch
import torch.nn.functional as F

from seqlab import BOS, UNK
from seqlab.options import UserError, user_errors
from seqlab_lm.cache import CacheConfig, NeuralCache
from seqlab_lm.options import CACHE_FROM, CHECKPOINT, RUN
from seqlab_lm.scoring import load_run


@torch.no_grad()
def continue_text(
    model,
    ids: list[int],
    n: int,
    temperature: float | None = None,
    cache: CacheConfig | None = None,
    generator: torch.Generator | None = None,
) -> list[int]:
    """`n` token ids that follow `ids`; temperature None is greedy (argmax)."""
    model.eval()
    model.reset()
    x = torch.tensor([ids])
    hidden = model.encoder(x)
    memory = NeuralCache(cache) if cache is not None else None
    if memory is not None:  # the prompt's own (state, next token) pairs
        memory.add(hidden[:, :-1], x[:, 1:])
    out: list[int] = []
    for _ in range(n):
        h = hidden[:, -1:]
        log_probs = F.log_softmax(model.head.logits(h), -1)
        if memory is not None:
            log_probs = memory.mix(h, log_probs)
        if temperature is None:
            token = log_probs[0, -1].argmax()
        else:
            probs = F.softmax(log_probs[0, -1] / temperature, -1)
            token = torch.multinomial(probs, 1, generator=generator)[0]
        nxt = token.view(1, 1)
        if memory is not None:
            memory.add(h, nxt)
        out.append(int(token))
        hidden = model.encoder(nxt)
    return out


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
# not seqlab.options' --seed: without one, sampling differs from call to call, on purpose
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed for sampling (repeatable output).",
)
@CHECKPOINT
@user_errors
def generate(run_dir, prompt, n, temperature, greedy, use_cache, cache_from, seed, checkpoint):
    """Continue PROMPT with the language model in RUN and print the text.

    \b
    Example:
      seqlab generate runs/human-numbers-20250101-120000 --prompt "eight thousand one ," --greedy
    """
    if greedy and temperature is not None:
        raise UserError("--greedy and --temperature exclude each other: pick one")
    model, vocab, config = load_run(run_dir, checkpoint)
    chars = config.get("level") == "char"
    sep = "" if chars else " "
    tokens = list(prompt) if chars else prompt.split()
    if not prompt.strip():
        raise UserError("--prompt is empty: give some text to continue")
    unknown = sorted({t for t in tokens if t not in vocab.stoi})
    if unknown:
        shown = " ".join(repr(t) if chars else t for t in unknown)
        click.echo(f"note: not in the vocabulary, read as {UNK}: {shown}", err=True)
    backward = config["encoder"].get("backward", False)
    if backward:  # a backward LM reads right to left: it writes what comes before the prompt
        tokens = tokens[::-1]
    if tokens[0] != BOS:
        tokens = [BOS, *tokens]
    cache = CacheConfig.for_run(run_dir, cache_from)[0] if use_cache else None
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    new = continue_text(
        model,
        [int(i) for i in vocab.encode(tokens)],
        n,
        None if greedy else (temperature or 1.0),
        cache,
        generator,
    )
    words = [vocab.itos[i] for i in new]
    given = prompt if chars else prompt.strip()
    click.echo(sep.join(words[::-1] + [given] if backward else [given] + words))
