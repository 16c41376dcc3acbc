"""`seqlab generate RUN --prompt TEXT`: continue a text with the language model in RUN.

The prompt is read token by token (whitespace-separated, as the corpus was tokenised)
after `xxbos`, with the state carried along; then each new token is fed back in. With
`--cache`, the prompt and what has been generated so far fill the neural cache.
"""

from __future__ import annotations

from pathlib import Path

import click
import torch
import torch.nn.functional as F

from seqlab import BOS, UNK, UserError, user_errors
from seqlab_lm.cache import CacheConfig, NeuralCache
from seqlab_lm.evaluate import CACHE_FROM
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
@click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path, file_okay=False))
@click.option("--prompt", required=True, help='Text to continue, e.g. "eight thousand one ,".')
@click.option("--n", default=40, show_default=True, help="Tokens to generate.")
@click.option(
    "--temperature",
    type=float,
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
@click.option("--seed", default=None, type=int, help="Seed for sampling (repeatable output).")
@click.option(
    "--checkpoint",
    type=click.Choice(["last", "best"]),
    default="last",
    show_default=True,
    help="Which checkpoint of RUN.",
)
@user_errors
def generate(run_dir, prompt, n, temperature, greedy, use_cache, cache_from, seed, checkpoint):
    """Continue PROMPT with the language model in RUN and print the text.

    \b
    Example:
      seqlab generate runs/human-numbers-20250101-120000 --prompt "eight thousand one ," --greedy
    """
    if greedy and temperature is not None:
        raise UserError("--greedy and --temperature exclude each other: pick one")
    if temperature is not None and not temperature > 0:
        raise UserError(f"--temperature must be positive, got {temperature}")
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    model, vocab, config = load_run(run_dir, checkpoint)
    tokens = prompt.split()
    if not tokens:
        raise UserError("--prompt is empty: give some text to continue")
    unknown = sorted({t for t in tokens if t not in vocab.stoi})
    if unknown:
        click.echo(f"note: not in the vocabulary, read as {UNK}: {' '.join(unknown)}", err=True)
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
    click.echo(" ".join(words[::-1] + [prompt.strip()] if backward else [prompt.strip()] + words))
