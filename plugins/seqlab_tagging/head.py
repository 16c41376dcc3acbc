"""TagHead: a tag for every token, by a per-token softmax or a linear-chain CRF.

The head maps encoder outputs (bs, L, hidden) to emission scores (bs, L, tags). Softmax: each
token's tag is its argmax, the loss is cross-entropy over real tokens. CRF (`crf=True`): the
loss is the sequence's negative log-likelihood and the tags come from Viterbi, so the head
learns which tag may follow which. Both losses are per real token, so batches weigh fairly.

For a span tag set (BIO, BIOES) the CRF is constrained (`constrained=True`, the default the
task gives it): the steps no valid sequence takes are forbidden (seqlab_tagging.schemes), so
every decoded sequence is a valid set of spans.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import Batch, Head
from seqlab_tagging import schemes
from seqlab_tagging.crf import CRF
from seqlab_tagging.metrics import scores, span_scheme


class TagHead(Head):
    kind = "tag"

    def __init__(
        self,
        encoder: Any,
        tags: list[str],
        crf: bool = False,
        out_drop: float = 0.0,
        constrained: bool = False,
    ):
        super().__init__()
        if not tags:
            raise ValueError("a tagger needs at least one tag")
        self.tags, self.out_drop = list(tags), out_drop
        self.scheme = span_scheme(self.tags)
        if constrained and not (crf and self.scheme):
            raise ValueError("constrained needs a CRF and a span tag set (BIO or BIOES)")
        self.linear = nn.Linear(encoder.out_size, len(self.tags))
        rules = schemes.allowed(self.tags, self.scheme) if constrained and self.scheme else None
        self.crf = CRF(len(self.tags), rules) if crf else None

    def forward(self, hidden: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.linear(F.dropout(hidden, self.out_drop, self.training))

    def loss(self, out: Tensor, batch: Batch) -> Tensor:
        mask = _mask(batch, out)
        if self.crf is not None:
            return self.crf.nll(out, batch.y, mask).sum() / mask.sum()
        return F.cross_entropy(out[mask], batch.y[mask])

    @torch.no_grad()
    def decode(self, out: Tensor, mask: Tensor) -> list[list[int]]:
        """Predicted tag ids of each row's real tokens."""
        best = self.crf.viterbi(out, mask) if self.crf is not None else out.argmax(-1)
        return [row[:n].tolist() for row, n in zip(best, mask.sum(1).tolist(), strict=True)]

    def eval_step(self, out: Tensor, batch: Batch) -> dict[str, Any]:
        mask = _mask(batch, out)
        gold = [row[:n].tolist() for row, n in zip(batch.y, mask.sum(1).tolist(), strict=True)]
        return {"gold": gold, "pred": self.decode(out, mask)}

    def reduce(self, steps: list[dict[str, Any]], loss: float) -> dict[str, float]:
        gold = [self.names(s) for step in steps for s in step["gold"]]
        pred = [self.names(s) for step in steps for s in step["pred"]]
        return scores(gold, pred, self.scheme)

    def names(self, ids: list[int]) -> list[str]:
        return [self.tags[i] for i in ids]

    def config(self) -> dict[str, Any]:
        return {
            "tags": self.tags,
            "crf": self.crf is not None,
            "out_drop": self.out_drop,
            "constrained": self.crf is not None and self.crf.constrained,
        }


def _mask(batch: Batch, out: Tensor) -> Tensor:
    if batch.mask is not None:
        return batch.mask
    return torch.ones(out.shape[:2], dtype=torch.bool, device=out.device)
