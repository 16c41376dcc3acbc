"""LM head: output dropout, then a decoder tied to the encoder's embedding.

Tying (Press & Wolf 2017; Inan et al. 2017) shares one matrix between reading and
writing tokens: fewer parameters, and better perplexity on small corpora.

AR and TAR (Merity et al. 2017, AWD-LSTM) regularise the encoder's top-layer outputs
during training: AR adds alpha * mean(dropped output ** 2) (keeps activations small),
TAR adds beta * mean((h_t - h_(t-1)) ** 2) (keeps them slowly changing). Both are
computed in `forward`, where the outputs are, and added by `loss` in training only.

A character LM (`bpc=True`) also reports bits per character, the figure char-LM papers
give: the valid loss in bits instead of nats (loss / ln 2).
"""

from __future__ import annotations

import math
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import Batch, Head, StatefulEncoder


class LMHead(Head):
    kind = "lm"

    def __init__(
        self,
        encoder: StatefulEncoder,
        out_drop: float = 0.0,
        tie: bool = True,
        last_only: bool = False,
        alpha: float = 0.0,
        beta: float = 0.0,
        bpc: bool = False,
    ):
        super().__init__()
        self.out_drop, self.tie, self.last_only = out_drop, tie, last_only
        self.alpha, self.beta, self.bpc = alpha, beta, bpc
        self._reg: Tensor | None = None  # AR + TAR of the last training forward
        emb = encoder.embedding
        # Tying needs the decoder's input to have the embedding's size.
        size = emb.embedding_dim if tie else encoder.out_size
        self.proj = (
            nn.Linear(encoder.out_size, size, bias=False) if size != encoder.out_size else None
        )
        self.decoder = nn.Linear(size, emb.num_embeddings)
        if tie:
            self.decoder.weight = emb.weight

    def forward(self, hidden: Tensor, mask: Tensor | None = None) -> Tensor:
        """(bs, L, hidden) -> logits (bs, L, vocab), or (bs, vocab) with `last_only`."""
        raw = hidden
        if self.last_only:
            hidden = hidden[:, -1]
        out = F.dropout(hidden, self.out_drop, self.training)
        self._reg = None
        if self.training and (self.alpha or self.beta):
            self._reg = self.alpha * out.pow(2).mean()
            if raw.size(1) > 1:
                self._reg = self._reg + self.beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        return self.logits(out)

    def logits(self, hidden: Tensor) -> Tensor:
        """Decoder only, on every position given (evaluation, the cache, generation)."""
        if self.proj is not None:
            hidden = self.proj(hidden)
        return self.decoder(hidden)

    def _targets(self, batch: Batch) -> Tensor:
        return batch.y[:, -1] if self.last_only else batch.y

    def loss(self, out: Tensor, batch: Batch) -> Tensor:
        loss = F.cross_entropy(out.reshape(-1, out.size(-1)), self._targets(batch).reshape(-1))
        if self.training and self._reg is not None:
            loss = loss + self._reg
        return loss

    def n_targets(self, batch: Batch) -> int:
        return self._targets(batch).numel()

    def eval_step(self, out: Tensor, batch: Batch) -> dict[str, Any]:
        y = self._targets(batch)
        return {"correct": int((out.argmax(-1) == y).sum()), "n": y.numel()}

    def reduce(self, steps: list[dict[str, Any]], loss: float) -> dict[str, float]:
        n = sum(s["n"] for s in steps)
        accuracy = sum(s["correct"] for s in steps) / max(n, 1)
        metrics = {"accuracy": accuracy, "perplexity": math.exp(min(loss, 50.0))}
        if self.bpc:
            metrics["bpc"] = loss / math.log(2)
        return metrics

    def config(self) -> dict[str, Any]:
        return {
            "out_drop": self.out_drop,
            "tie": self.tie,
            "last_only": self.last_only,
            "alpha": self.alpha,
            "beta": self.beta,
            **({"bpc": True} if self.bpc else {}),  # absent in word LMs' checkpoints, as before
        }
