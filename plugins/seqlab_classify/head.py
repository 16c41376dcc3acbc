"""Classification head: masked concat pooling, then a small MLP (ULMFiT's classifier).

The encoder gives one vector per token; a class needs one per text. Concat pooling joins
three views of the sequence: the output at the last real token (what a left-to-right RNN has
read by the end), the max over real tokens (the strongest signal anywhere) and the mean over
real tokens. The mask keeps padding out of all three, so a text's prediction does not depend
on what it was batched with.

With the n-gram channel (seqlab_classify.ngram_encoder), the encoder's last `ngram_dim + 1`
features are per-token sums of n-gram vectors and their counts: the head adds them up over
the text into one bag (mean: divided by the text's n-gram count, fastText's; l2: by the
norm of the n-gram weights, TF-IDF's; sum: not) and joins it to the pooled features before
the MLP (`join="features"`), or maps it to class scores with a linear layer of its own,
added to the MLP's logits (`join="logits"`: the n-grams' weights stay linear, so each
n-gram's share of a prediction is exact). Without an encoder beside the n-grams, the head is
that linear layer alone: fastText.

`join="convex"`: the bag has one column per class and is itself the n-gram logits, a logistic
regression fitted before training (seqlab_classify.convex) and fixed, with its bias
(`ngram_bias`: fixed too, unless there is no MLP, no encoder beside the n-grams, and so
nothing else to train). The MLP's output layer starts at zero, so training starts from the
regression's predictions and the pooled features learn only what they leave.
"""

from __future__ import annotations

from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import Batch, Head, StatefulEncoder
from seqlab.nn.size import memory_problem
from seqlab.settings import SettingError

# where the n-gram bag joins: the pooled features, the logits (a linear layer of its own), or
# the logits as a fitted, fixed logistic regression
JOINS = ("features", "logits", "convex")
MODES = ("mean", "sum", "l2")


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
        ngram_dim: int = 0,
        join: str = "features",
        ngram_mode: str = "mean",
    ):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        if class_weights is not None and len(class_weights) != n_classes:
            raise ValueError(f"{len(class_weights)} class weights for {n_classes} classes")
        self.n_classes, self.lin, self.drop = n_classes, lin, drop
        self.label_smoothing, self.class_weights = label_smoothing, class_weights
        if join not in JOINS or ngram_mode not in MODES:
            raise ValueError(f"join must be one of {JOINS} and ngram_mode one of {MODES}")
        if join == "convex" and ngram_dim and ngram_dim != n_classes:
            raise ValueError(f"join 'convex' needs an n-gram column per class, got {ngram_dim}")
        self.ngram_dim, self.join, self.ngram_mode = ngram_dim, join, ngram_mode
        # a buffer, not a parameter: it moves with the model to the GPU and is never trained
        weights = torch.tensor(class_weights or [1.0] * n_classes, dtype=torch.float)
        self.weight: Tensor
        self.register_buffer("weight", weights, persistent=False)
        self.blocks = getattr(encoder, "blocks", 1)  # kinds of n-gram, each normed alone
        self.own = encoder.out_size - ((ngram_dim + 1) * self.blocks if ngram_dim else 0)
        pooled = 3 * self.own + (ngram_dim if join == "features" else 0)
        problem = memory_problem(lin * (pooled + n_classes + 6))  # before allocating
        if problem:
            raise SettingError("lin", f"{lin} {problem}")
        # n-grams alone (no encoder), or joined at the logits: a linear map of the bag
        self.ngram_out: nn.Module | None = (
            nn.Linear(ngram_dim, n_classes)
            if ngram_dim and join != "convex" and (join == "logits" or not self.own)
            else None
        )
        self.layers: nn.Module | None = (
            None
            if not self.own and ngram_dim
            else nn.Sequential(
                BatchNorm(pooled),
                nn.Dropout(drop),
                nn.Linear(pooled, lin),
                nn.ReLU(),
                BatchNorm(lin),
                nn.Dropout(drop / 2),
                nn.Linear(lin, n_classes),
            )
        )
        if join == "convex" and self.layers is not None:
            last = cast(nn.Linear, self.layers[-1])  # a residual on the regression, from zero
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.ngram_bias: Tensor
            self.register_buffer("ngram_bias", torch.zeros(n_classes))
        elif join == "convex":  # the n-grams alone: the bias is what trains
            self.ngram_bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, hidden: Tensor, mask: Tensor | None = None) -> Tensor:
        """(n, L, h) -> class logits (n, n_classes)."""
        if not self.ngram_dim:
            assert self.layers is not None  # an encoder's features and nothing else
            return self.layers(concat_pool(hidden, mask))
        bag = self.bag(hidden[..., self.own :], mask)
        if self.join == "convex":
            logits = bag + self.ngram_bias
            if self.layers is None:
                return logits
            return logits + self.layers(concat_pool(hidden[..., : self.own], mask))
        if self.layers is None:
            assert self.ngram_out is not None  # n-grams alone
            return self.ngram_out(bag)
        pooled = concat_pool(hidden[..., : self.own], mask)
        if self.ngram_out is None:  # join="features"
            return self.layers(torch.cat([pooled, bag], dim=1))
        return self.layers(pooled) + self.ngram_out(bag)

    def bag(self, grams: Tensor, mask: Tensor | None) -> Tensor:
        """(n, L, B * (dim + 1)) per-token n-gram sums and counts (sums of squared weights) of
        B blocks -> (n, dim), padding left out: each block's divided by its count (mean), by
        its square root (l2: the bag of a unit-length weight vector, TF-IDF's norm), or not
        (sum); then the blocks' added, over the square root of B (l2: a unit-length whole,
        as from one TfidfVectorizer per kind, stacked)."""
        if mask is not None:
            grams = grams * mask[:, :, None]
        total = grams.sum(dim=1)
        b = self.blocks
        sums = total[:, :-b].view(len(total), b, -1)
        counts = total[:, -b:, None].clamp(min=1e-6)
        if self.ngram_mode == "mean":
            sums = sums / counts.clamp(min=1)
        elif self.ngram_mode == "l2":
            sums = sums / counts.sqrt()
        return sums.sum(1) / b**0.5

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
        # macro over the classes that occur (in truth or prediction), as scikit-learn does;
        # imported here: scikit-learn takes ~1.8 s to import, and prediction never scores
        from sklearn.metrics import f1_score

        macro_f1 = f1_score(true, pred, average="macro", zero_division=0)
        return {"accuracy": accuracy, "macro_f1": float(macro_f1)}

    def config(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "lin": self.lin,
            "drop": self.drop,
            "label_smoothing": self.label_smoothing,
            "class_weights": self.class_weights,
            "ngram_dim": self.ngram_dim,
            "join": self.join,
            "ngram_mode": self.ngram_mode,
        }
