"""SeqModel = encoder + Head. A head owns its loss and metrics.

A head maps encoder outputs (bs, L, hidden) and a mask to predictions. Heads are
plugins (entry-point group `seqlab.heads`), so a checkpoint names its head's kind
and the registry rebuilds it with `Head.from_config`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from seqlab.data.batches import Batch
from seqlab.nn.encoder import Encoder


class Head(nn.Module):
    """Base class for heads. `kind` is the name of the head's entry point."""

    kind: ClassVar[str] = ""

    def forward(self, hidden: Tensor, mask: Tensor | None) -> Tensor:
        raise NotImplementedError

    def loss(self, out: Tensor, batch: Batch) -> Tensor:
        raise NotImplementedError

    def eval_step(self, out: Tensor, batch: Batch) -> dict[str, Any]:
        """Per-batch statistics gathered during evaluation (counts, predictions, ...)."""
        raise NotImplementedError

    def reduce(self, steps: list[dict[str, Any]], loss: float) -> dict[str, float]:
        """Epoch metrics from the per-batch statistics and the mean loss; the first key
        is the headline metric (shown after valid_loss)."""
        raise NotImplementedError

    def n_targets(self, batch: Batch) -> int:
        """How many predictions `loss` averages over (to weight batches fairly)."""
        return int(batch.mask.sum()) if batch.mask is not None else batch.y.numel()

    def config(self) -> dict[str, Any]:
        """What `from_config` needs to rebuild this head (JSON-serialisable)."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any], encoder: Encoder) -> Head:
        return cls(encoder=encoder, **config)


class SeqModel(nn.Module):
    def __init__(self, encoder: Encoder, head: Head):
        super().__init__()
        self.encoder: Encoder = encoder  # an nn.Module: registered as a submodule
        self.head = head

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.head(self.encoder(x), mask)

    def reset(self) -> None:
        self.encoder.reset()

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom to top: the encoder's groups (embedding, each RNN layer), the head last,
        together with what the encoder puts on top of its layers (for ULMFiT's
        discriminative learning rates and gradual unfreezing). A parameter shared with a
        lower group (a tied decoder) belongs to the lower group only."""
        *groups, top = self.encoder.layer_groups()
        seen = {id(p) for g in groups for p in g}
        top = [*top, *self.head.parameters()]
        groups.append([p for p in dict.fromkeys(top) if id(p) not in seen])
        return groups

    def freeze_to(self, n: int) -> None:
        """Train only the top `len(groups) - n` groups (n=0: everything); ULMFiT unfreezing."""
        groups = self.layer_groups()
        for i, g in enumerate(groups):
            for p in g:
                p.requires_grad_(i >= n)
