"""The continuous cache of Grave, Joulin & Usunier (ICLR 2017), for any seqlab LM.

Keep the last `window` hidden states h_i of the top layer, each with the token that
followed it, x_(i+1). The cache predicts a token in proportion to how much the current
state looks like the states that came before it:

    p_cache(w | h_t) ∝ Σ_{i < t, x_(i+1) = w} exp(theta · h_t · h_i)
    p(w) = (1 - lam) · p_model(w) + lam · p_cache(w)

No training: lam, theta and window are tuned on held-out text (`seqlab tune-cache`).
It copies from recent context, which a plain LM cannot do for a word it has never seen
in that role (human numbers: "nine thousand" never occurs in train, yet every number of
9,000..9,999 starts by repeating the previous number's thousands word).

Rows are independent: with a batch of bs rows (a BPTTStream), row r's cache holds row r's
past only, so evaluating a batch gives exactly what evaluating each row alone gives.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from seqlab import atomic_write
from seqlab.settings import check, setting

CACHE_FILE = "cache.json"


@dataclass
class CacheConfig:
    # Defaults: the best mean accuracy on the held-out tail of human numbers' train split
    # (last 15%) for the default model, 3 seeds, read as its training bs (32) reads it
    # (docs/accuracy.md). `seqlab tune-cache RUN` tunes them for a given run and bs.
    lam: float = setting(
        0.45, "Weight of the cache in the mix (0: model only).", min=0, max=1, max_open=True
    )
    theta: float = setting(10.0, "Flatness: larger trusts the most similar state more.", min=0)
    window: int = setting(2000, "Hidden states kept, per row.", min=1)

    def __post_init__(self) -> None:
        check(self)

    def describe(self) -> str:
        return f"lam={self.lam:g} theta={self.theta:g} window={self.window}"

    def save(self, run_dir: Path, extra: dict | None = None) -> Path:
        path = Path(run_dir) / CACHE_FILE
        atomic_write(path, json.dumps({**asdict(self), **(extra or {})}, indent=1))
        return path

    @classmethod
    def for_run(cls, run_dir: Path, cache_from: Path | None = None) -> tuple[CacheConfig, dict]:
        """(settings, how they were tuned: {"source": ..., "bs": ...}): from `cache_from` (a
        run directory or its cache.json) when given, else RUN/cache.json, else the defaults."""
        where = cache_from if cache_from is not None else run_dir
        raw = _read(where)
        if raw is not None:
            return cls._from(raw, where), {**raw, "source": str(where)}
        if cache_from is not None:
            raise ValueError(
                f"--cache-from {cache_from}: no {CACHE_FILE} there; "
                "run `seqlab tune-cache` on that run first"
            )
        return cls(), {"source": "defaults; tune with `seqlab tune-cache`"}

    @classmethod
    def load(cls, where: Path) -> CacheConfig | None:
        """The tuned settings in a run directory (or a cache.json path), None if absent."""
        raw = _read(where)
        return None if raw is None else cls._from(raw, where)

    @classmethod
    def _from(cls, raw: dict, where: Path) -> CacheConfig:
        try:
            return cls(lam=raw["lam"], theta=raw["theta"], window=int(raw["window"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f"{where}: not a cache settings file ({e}); rerun `seqlab tune-cache`"
            ) from None


def _read(where: Path) -> dict | None:
    where = Path(where)
    path = where if where.suffix == ".json" else where / CACHE_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path}: not a cache settings file ({e}); rerun `seqlab tune-cache`"
        ) from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a cache settings file; rerun `seqlab tune-cache`")
    return raw


class NeuralCache:
    """Per-row memory of (hidden state, next token) pairs.

    `mix` turns model log-probabilities into cache-mixed ones without changing the memory;
    `add` appends pairs; `step` does both for a chunk whose targets are known (evaluation).
    Generation calls `mix` for one step, samples, then `add`s the sampled token.
    """

    def __init__(self, config: CacheConfig):
        self.config = config
        self.keys: Tensor | None = None  # (bs, M, hidden), M <= window
        self.values: Tensor | None = None  # (bs, M) the token that followed each key

    def reset(self) -> None:
        self.keys = self.values = None

    def _memory(self, hidden: Tensor) -> tuple[Tensor, Tensor]:
        bs, _, nh = hidden.shape
        if self.keys is not None and self.values is not None and self.keys.size(0) >= bs:
            # Fewer rows than before: keep the rows this batch continues (as the encoder does).
            return self.keys[:bs], self.values[:bs]
        return hidden.new_zeros(bs, 0, nh), torch.zeros(
            bs, 0, dtype=torch.long, device=hidden.device
        )

    def probs(self, hidden: Tensor, vocab_size: int, targets: Tensor | None = None):
        """(p_cache (bs, L, V), has (L,) bool: whether position t had anything to look at).

        hidden: (bs, L, nh) states of this chunk; targets: (bs, L) the token after each,
        used for the positions before t inside the chunk (None: memory only)."""
        keys, values = self._memory(hidden)
        m = keys.size(1)
        if targets is not None:
            keys, values = torch.cat([keys, hidden], 1), torch.cat([values, targets], 1)
        bs, length, k = hidden.size(0), hidden.size(1), keys.size(1)
        query = torch.arange(length, device=hidden.device)[:, None] + m  # absolute positions
        key = torch.arange(k, device=hidden.device)[None, :]
        usable = (key < query) & (key >= query - self.config.window)  # (L, K)
        has = usable.any(-1)
        p = hidden.new_zeros(bs, length, vocab_size)
        if k == 0 or not bool(has.any()):
            return p, has
        scores = self.config.theta * hidden @ keys.transpose(1, 2)  # (bs, L, K)
        scores = scores.masked_fill(~usable, -math.inf)
        weights = torch.softmax(scores, -1).nan_to_num(0.0)  # a row with no key: all zero
        p.scatter_add_(2, values[:, None, :].expand(bs, length, k), weights)
        return p, has

    def mix(self, hidden: Tensor, log_probs: Tensor, targets: Tensor | None = None) -> Tensor:
        p_cache, has = self.probs(hidden, log_probs.size(-1), targets)
        return mix(log_probs, p_cache, has, self.config.lam)

    def add(self, hidden: Tensor, targets: Tensor) -> None:
        keys, values = self._memory(hidden)
        w = self.config.window
        self.keys = torch.cat([keys, hidden], 1)[:, -w:]
        self.values = torch.cat([values, targets], 1)[:, -w:]

    def step(self, hidden: Tensor, log_probs: Tensor, targets: Tensor) -> Tensor:
        out = self.mix(hidden, log_probs, targets)
        self.add(hidden, targets)
        return out


def mix(log_probs: Tensor, p_cache: Tensor, has: Tensor, lam: float) -> Tensor:
    """log((1 - lam) p_model + lam p_cache), in log space (a very unlikely token keeps its
    log-probability); where the cache was empty, the model alone."""
    lam_t = torch.where(has, lam, 0.0).to(log_probs.dtype)[None, :, None]  # (1, L, 1)
    return torch.logaddexp(torch.log1p(-lam_t) + log_probs, lam_t.log() + p_cache.log())
