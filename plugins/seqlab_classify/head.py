"""Classification head: masked concat pooling, then a small MLP (ULMFiT's classifier).

The encoder gives one vector per token; a class needs one per text. Concat pooling joins
three views of the sequence: the output at the last real token (what a left-to-right RNN has
read by the end), the max over real tokens (the strongest signal anywhere) and the mean over
real tokens. The mask keeps padding out of all three, so a text's prediction does not depend
on what it was batched with.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import Tensor, nn

from seqlab import Batch, Head, StatefulEncoder
from seqlab.nn.size import memory_problem
from seqlab.settings import SettingError


def concat_pool(hidden: Tensor, mask: Tensor | None) -> Tensor:
    """(n, L, h) outputs and (n, L) mask -> (n, 3h): [last real, max over real, mean over real]."""
    if mask is None:
        mask = torch.ones(hidden.shape[:2], dtype=torch.bool, device=hidden.device)
    lengths = mask.sum(dim=1)
    last = hidden[torch.arange(hidden.size(0), device=hidden.device), lengths - 1]
    m = mask[:, :, None]
    biggest = hidden.masked_fill(~m, float("-inf")).max(dim=1).values
    mean = (hidden * m).sum(dim=1) / lengths[:, None]
    return torch.cat([last, biggest, mean], dim=1)


class BatchNorm(nn.BatchNorm1d):
    """Batch norm that also takes a training batch of one example (the last, short batch of
    an epoch): it then normalises with the running statistics instead of failing."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.size(0) == 1:
            return F.batch_norm(
                x,
                self.running_mean,
                self.running_var,
                self.weight,
                self.bias,
                training=False,
                eps=self.eps,
            )
        return super().forward(x)


class ClassifierHead(Head):
    kind = "classify"

    def __init__(
        self,
        encoder: StatefulEncoder,
        n_classes: int,
        lin: int = 50,
        drop: float = 0.2,
        label_smoothing: float = 0.0,
        class_weights: list[float] | None = None,
    ):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        if class_weights is not None and len(class_weights) != n_classes:
            raise ValueError(f"{len(class_weights)} class weights for {n_classes} classes")
        self.n_classes, self.lin, self.drop = n_classes, lin, drop
        self.label_smoothing, self.class_weights = label_smoothing, class_weights
        # a buffer, not a parameter: it moves with the model to the GPU and is never trained
        weights = torch.tensor(class_weights or [1.0] * n_classes, dtype=torch.float)
        self.weight: Tensor
        self.register_buffer("weight", weights, persistent=False)
        pooled = 3 * encoder.out_size
        problem = memory_problem(lin * (pooled + n_classes + 6))  # before allocating
        if problem:
            raise SettingError("lin", f"{lin} {problem}")
        self.layers = nn.Sequential(
            BatchNorm(pooled),
            nn.Dropout(drop),
            nn.Linear(pooled, lin),
            nn.ReLU(),
            BatchNorm(lin),
            nn.Dropout(drop / 2),
            nn.Linear(lin, n_classes),
        )

    def forward(self, hidden: Tensor, mask: Tensor | None = None) -> Tensor:
        """(n, L, h) -> class logits (n, n_classes)."""
        return self.layers(concat_pool(hidden, mask))

    def loss(self, out: Tensor, batch: Batch) -> Tensor:
        weight = self.weight if self.class_weights is not None else None
        return F.cross_entropy(out, batch.y, weight=weight, label_smoothing=self.label_smoothing)

    def n_targets(self, batch: Batch) -> int:
        return batch.y.numel()

    def eval_step(self, out: Tensor, batch: Batch) -> dict[str, Any]:
        return {"pred": out.argmax(-1).tolist(), "true": batch.y.tolist()}

    def reduce(self, steps: list[dict[str, Any]], loss: float) -> dict[str, float]:
        pred = [p for s in steps for p in s["pred"]]
        true = [t for s in steps for t in s["true"]]
        accuracy = sum(p == t for p, t in zip(pred, true, strict=True)) / max(len(true), 1)
        # macro over the classes that occur (in truth or prediction), as scikit-learn does
        macro_f1 = f1_score(true, pred, average="macro", zero_division=0)
        return {"accuracy": accuracy, "macro_f1": float(macro_f1)}

    def config(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "lin": self.lin,
            "drop": self.drop,
            "label_smoothing": self.label_smoothing,
            "class_weights": self.class_weights,
        }
