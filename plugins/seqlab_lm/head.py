"""LM head: output dropout, then a decoder tied to the encoder's embedding.

Tying (Press & Wolf 2017; Inan et al. 2017) shares one matrix between reading and
writing tokens: fewer parameters, and better perplexity on small corpora.
"""

from __future__ import annotations

import math
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import Batch, Head, StatefulEncoder


class LMHead(Head):
    kind = "lm"

    def __init__(self, encoder: StatefulEncoder, out_drop: float = 0.0, tie: bool = True,
                 last_only: bool = False):
        super().__init__()
        self.out_drop, self.tie, self.last_only = out_drop, tie, last_only
        emb = encoder.embedding
        # Tying needs the decoder's input to have the embedding's size.
        size = emb.embedding_dim if tie else encoder.out_size
        self.proj = nn.Linear(encoder.out_size, size, bias=False) if size != encoder.out_size else None
        self.decoder = nn.Linear(size, emb.num_embeddings)
        if tie:
            self.decoder.weight = emb.weight

    def forward(self, hidden: Tensor, mask: Tensor | None = None) -> Tensor:
        """(bs, L, hidden) -> logits (bs, L, vocab), or (bs, vocab) with `last_only`."""
        if self.last_only:
            hidden = hidden[:, -1]
        out = F.dropout(hidden, self.out_drop, self.training)
        if self.proj is not None:
            out = self.proj(out)
        return self.decoder(out)

    def _targets(self, batch: Batch) -> Tensor:
        return batch.y[:, -1] if self.last_only else batch.y

    def loss(self, out: Tensor, batch: Batch) -> Tensor:
        return F.cross_entropy(out.reshape(-1, out.size(-1)), self._targets(batch).reshape(-1))

    def n_targets(self, batch: Batch) -> int:
        return self._targets(batch).numel()

    def eval_step(self, out: Tensor, batch: Batch) -> dict[str, Any]:
        y = self._targets(batch)
        return {"correct": int((out.argmax(-1) == y).sum()), "n": y.numel()}

    def reduce(self, steps: list[dict[str, Any]], loss: float) -> dict[str, float]:
        n = sum(s["n"] for s in steps)
        accuracy = sum(s["correct"] for s in steps) / max(n, 1)
        return {"accuracy": accuracy, "perplexity": math.exp(min(loss, 50.0))}

    def config(self) -> dict[str, Any]:
        return {"out_drop": self.out_drop, "tie": self.tie, "last_only": self.last_only}
