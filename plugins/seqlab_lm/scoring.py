"""Scoring a language model over a stream, with and without the neural cache.

The model reads the stream batch by batch with its state carried across batches, exactly
as the trainer's evaluation does (the state starts from zero), so "without cache" here
equals the valid accuracy in metrics.csv for the same checkpoint and batching.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab import SeqModel, Vocab, load_model
from seqlab_lm.cache import CacheConfig, NeuralCache, mix
from seqlab_lm.data import build_data

SPLITS = ("valid", "holdout")


def load_run(run_dir: Path, checkpoint: str = "last") -> tuple[SeqModel, Vocab, dict]:
    """(model, vocab, run config) of a `seqlab pretrain` run directory."""
    config_path = Path(run_dir) / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{run_dir}: no config.json; is it a `seqlab pretrain` run directory?")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("task") != "lm":
        raise ValueError(f"{run_dir}: a {config.get('task')!r} run, not a language model")
    model, vocab, _ = load_model(Path(run_dir) / checkpoint)
    model.eval()
    return model, vocab, config


def split_stream(config: dict, split: str, bs: int | None = None, holdout: float | None = None):
    """The evaluation stream of `split` with the run's batching (and direction):
    valid = the corpus' valid split; holdout = the tail of train (the run's own held-out
    fraction, else `holdout`)."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: choose one of {', '.join(SPLITS)}")
    cfg = copy.deepcopy(config)
    if bs is not None:
        cfg["data"]["bs"] = bs
    if split == "valid":
        cfg["data"]["holdout"] = 0.0
    else:
        cfg["data"]["holdout"] = cfg["data"].get("holdout") or holdout or 0.1
    _, stream, _ = build_data(cfg)
    return stream


@torch.no_grad()
def lm_outputs(
    model: SeqModel,
    stream: Iterable,
    device: torch.device | str = "cpu",
    max_tokens: int | None = None,
) -> Iterator[tuple[Tensor, Tensor, Tensor, Tensor]]:
    """(x, y, hidden, log_probs) per batch; hidden is the top layer's output (bs, L, nh)."""
    model.to(device).eval()
    model.reset()
    seen = 0
    for x, y in stream:
        x, y = x.to(device), y.to(device)
        hidden = model.encoder(x)
        logits = model.head.logits(hidden)  # type: ignore[operator]  # an LM head's decoder
        yield x, y, hidden, F.log_softmax(logits, -1)
        seen += y.numel()
        if max_tokens is not None and seen >= max_tokens:
            break


@dataclass
class Tally:
    """Loss and accuracy over predictions, plus what is needed for error analysis."""

    loss: float = 0.0
    correct: int = 0
    n: int = 0
    errors_by_target: Counter = field(default_factory=Counter)
    errors_by_prev: Counter = field(default_factory=Counter)
    total_by_target: Counter = field(default_factory=Counter)
    total_by_prev: Counter = field(default_factory=Counter)
    confusions: Counter = field(default_factory=Counter)  # (target, predicted)
    confusions_after: Counter = field(default_factory=Counter)  # (previous, predicted)

    def add(self, y: Tensor, log_probs: Tensor, x: Tensor | None = None) -> None:
        """Count predictions of targets y; with the inputs x, also count the errors."""
        self.loss += float(-log_probs.gather(-1, y[..., None]).sum())
        pred = log_probs.argmax(-1)
        ok = pred == y
        self.correct += int(ok.sum())
        self.n += y.numel()
        if x is not None:
            xs, ys, ps, oks = (t.reshape(-1).tolist() for t in (x, y, pred, ok))
            self.total_by_target.update(ys)
            self.total_by_prev.update(xs)
            for prev, target, p, good in zip(xs, ys, ps, oks, strict=True):
                if not good:
                    self.errors_by_target[target] += 1
                    self.errors_by_prev[prev] += 1
                    self.confusions[target, p] += 1
                    self.confusions_after[prev, p] += 1

    def metrics(self) -> dict[str, float]:
        loss = self.loss / max(self.n, 1)
        return {
            "loss": loss,
            "accuracy": self.correct / max(self.n, 1),
            "perplexity": math.exp(min(loss, 50.0)),
            "n": self.n,
        }

    def error_rows(self, vocab: Vocab) -> list[dict]:
        """The errors grouped by target token and by previous token, most frequent first."""
        rows = []
        for by, errs, totals, conf in (
            ("target", self.errors_by_target, self.total_by_target, self.confusions),
            ("previous", self.errors_by_prev, self.total_by_prev, self.confusions_after),
        ):
            for tok, count in errs.most_common():
                top, top_n = max(
                    ((p, c) for (t, p), c in conf.items() if t == tok), key=lambda pc: pc[1]
                )
                rows.append(
                    {
                        "by": by,
                        "token": vocab.itos[tok],
                        "errors": count,
                        "total": totals[tok],
                        "error_rate": count / totals[tok],
                        "most_predicted": vocab.itos[top],
                        "most_predicted_count": top_n,
                    }
                )
        return rows


def score(
    model: SeqModel,
    stream: Iterable,
    cache: CacheConfig | None = None,
    device: torch.device | str = "cpu",
    errors: bool = False,
) -> tuple[Tally, Tally | None]:
    """Tallies without and (when `cache` is given) with the neural cache, in one pass."""
    plain = Tally()
    cached = Tally() if cache is not None else None
    memory = NeuralCache(cache) if cache is not None else None
    for x, y, hidden, log_probs in lm_outputs(model, stream, device):
        inputs = x if errors else None
        plain.add(y, log_probs, inputs)
        if memory is not None and cached is not None:
            cached.add(y, memory.step(hidden, log_probs, y), inputs)
    return plain, cached


def tune(
    model: SeqModel,
    stream: Iterable,
    windows: list[int],
    thetas: list[float],
    lams: list[float],
    device: torch.device | str = "cpu",
    max_tokens: int | None = None,
) -> list[dict]:
    """Loss and accuracy with the cache for every (window, theta, lam) in the grid.

    The model runs once; its outputs are kept and the cache replayed over them for each
    (window, theta), every lam sharing one cache pass."""
    outputs = [(y, h, lp) for _, y, h, lp in lm_outputs(model, stream, device, max_tokens)]
    results = []
    for window in windows:
        for theta in thetas:
            memory = NeuralCache(CacheConfig(lam=0.0, theta=theta, window=window))
            tallies = {lam: Tally() for lam in lams}
            for y, hidden, log_probs in outputs:
                p_cache, has = memory.probs(hidden, log_probs.size(-1), y)
                memory.add(hidden, y)
                for lam, tally in tallies.items():
                    tally.add(y, mix(log_probs, p_cache, has, lam))
            for lam, tally in tallies.items():
                results.append({"window": window, "theta": theta, "lam": lam, **tally.metrics()})
    return results
