"""Predicting with a language model: the next token's distribution, and continuing a text.

`seqlab generate` and the Python facade (`seqlab.load(LM_RUN)`, an `LMPredictor`) share
`prompt_ids` and `continue_text`. A word LM's tokens are the words and punctuation runs of
seqlab's tokenizer (as `seqlab pretrain PATH` splits text); a character LM's tokens are the
characters. A backward LM reads right to left: its "next" token is the one before the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from seqlab import BOS, Vocab
from seqlab.api import Predictor
from seqlab.data import tokenize
from seqlab.data.chartokens import untokenize
from seqlab_lm.cache import CacheConfig, NeuralCache


def prompt_tokens(text: str, level: str) -> list[str]:
    """The tokens of a text as the LM reads them (its level's tokenizer)."""
    return list(text) if level == "char" else tokenize.tokenize(text)


def prompt_ids(tokens: Sequence[str], vocab: Vocab, backward: bool) -> list[int]:
    """Ids to feed the LM: xxbos, then the tokens in its reading direction."""
    tokens = list(tokens)[::-1] if backward else list(tokens)
    if not tokens or tokens[0] != BOS:
        tokens = [BOS, *tokens]
    return [int(i) for i in vocab.encode(tokens)]


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
    device = next(model.parameters()).device
    x = torch.tensor([ids], device=device)
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
            probs = F.softmax(log_probs[0, -1] / temperature, -1).cpu()
            token = torch.multinomial(probs, 1, generator=generator)[0]
        nxt = token.view(1, 1).to(device)
        if memory is not None:
            memory.add(h, nxt)
        out.append(int(token))
        hidden = model.encoder(nxt)
    return out


@torch.no_grad()
def next_token_probs(model, seqs: list[list[int]], bs: int = 64) -> torch.Tensor:
    """(n, vocab) probabilities of the token after each id sequence, `bs` sequences at a
    time, right-padded: the LM reads left to right, so padding never reaches a real position."""
    model.eval()
    device = next(model.parameters()).device
    pad = model.encoder.config.pad_idx
    out = []
    for start in range(0, len(seqs), bs):
        chunk = seqs[start : start + bs]
        width = max(map(len, chunk))
        x = torch.full((len(chunk), width), pad, dtype=torch.long)
        for row, ids in enumerate(chunk):
            x[row, : len(ids)] = torch.tensor(ids)
        model.reset()  # each text starts from the zero state, as a document does
        hidden = model.encoder(x.to(device))
        last = hidden[torch.arange(len(chunk)), torch.tensor([len(s) - 1 for s in chunk])]
        out.append(F.softmax(model.head.logits(last[:, None]).float(), -1)[:, 0].cpu())
    return torch.cat(out) if out else torch.empty(0, 0)


class LMPredictor(Predictor):
    """`seqlab.load(...)` of a language model: predict() gives, per text, its "tokens" and
    "next": the `top_k` most likely next tokens with their probabilities (highest first);
    generate() continues a prompt."""

    kind = "lm"

    @property
    def level(self) -> str:
        return str(self.meta.get("level", "word"))

    @property
    def backward(self) -> bool:
        return bool(self.meta["encoder"].get("backward", False))

    def _predict(self, items: list[str | list[str]], bs: int, **options: Any) -> list[dict]:
        top_k = options.pop("top_k", 10)
        if options:
            raise TypeError(f"a language model's predict takes top_k, not {', '.join(options)}")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        tokens = [prompt_tokens(t, self.level) if isinstance(t, str) else t for t in items]
        seqs = [prompt_ids(t, self.vocab, self.backward) for t in tokens]
        if not seqs:
            return []
        probs = next_token_probs(self.model, seqs, bs)
        top = probs.topk(min(top_k, probs.size(1)), dim=1)
        return [
            {
                "tokens": list(t),
                "next": {self.vocab.itos[int(i)]: float(p) for p, i in zip(ps, ids, strict=True)},
            }
            for t, ps, ids in zip(tokens, top.values, top.indices, strict=True)
        ]

    def generate(
        self,
        prompt: str,
        n: int = 40,
        temperature: float | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> str:
        """`prompt` continued by `n` tokens (characters for a character LM): greedy unless a
        `temperature` is given (then sampled, repeatably with `seed`). A backward LM writes
        what comes before the prompt."""
        if options:
            raise TypeError(f"generate takes no {', '.join(options)}")
        return generate_text(self.model, self.vocab, self.meta, prompt, n, temperature, seed)[0]


def generate_text(
    model,
    vocab: Vocab,
    meta: dict[str, Any],
    prompt: str,
    n: int,
    temperature: float | None = None,
    seed: int | None = None,
    cache: CacheConfig | None = None,
) -> tuple[str, list[str]]:
    """(the prompt with `n` generated tokens, the prompt's tokens the vocab lacks)."""
    if not prompt.strip():
        raise ValueError("the prompt is empty: give some text to continue")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    chars = meta.get("level") == "char"
    tokens = prompt_tokens(prompt, "char" if chars else "word")
    unknown = sorted({t for t in tokens if t not in vocab.stoi})
    backward = bool(meta["encoder"].get("backward", False))
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    new = continue_text(
        model, prompt_ids(tokens, vocab, backward), n, temperature, cache, generator
    )
    words = [vocab.itos[i] for i in new]
    if chars:  # xxbos, xxrep, ... as text, never by name (seqlab.data.chartokens)
        made = untokenize(words[::-1] if backward else words)
        return (made + prompt if backward else prompt + made), unknown
    given = prompt.strip()
    return " ".join(words[::-1] + [given] if backward else [given] + words), unknown
