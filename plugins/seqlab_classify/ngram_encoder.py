"""NgramEncoder: an encoder (or none) with the n-gram channel beside it.

    x (n, L, 1 + K) ─► column 0, token ids ─► inner encoder (word view, LM, stack) ─┐
                    ─► columns 1..K, n-gram buckets (seqlab_classify.ngrams)         │
                          ─► EmbeddingBag(mode sum) per token ─► (n, L, dim) ────────┤
                          ─► how many n-grams each token has   ─► (n, L, 1) ─────────┴─► concat

The head (seqlab_classify.head) takes the last `dim + 1` features apart: the sum of the
n-gram vectors over the text divided by its count is fastText's mean bag. A genre or a topic
is carried by words and surface cues ("lol", a URL, a lower-case "i"); a linear weight per
n-gram learns them from a few examples each, which a recurrent encoder trained on a few
thousand texts does not. With n-gram dropout (`drop`), a training text loses each of its
n-grams with that probability. Registered as encoder kind "classify-ngrams"; the config holds
the inner encoder's kind and config and the n-gram spec, so a checkpoint alone reproduces the
features.

Each n-gram may carry a fixed weight, its inverse document frequency on the training texts
(`idf`, a buffer saved with the weights; `set_idf`): as in TF-IDF, an n-gram in every text
("e>", "th") then counts less in the bag than one that marks a few, and one in no training
text not at all. The count column is then the sum of the squared weights, so the head can
divide the bag by its L2 norm.

With the spec's `blocks` (seqlab_classify.ngrams), the sums and counts come per kind of
n-gram, `blocks` of each per token: [inner | sums of block 1..B | counts of block 1..B].

`fitted`: the table is a linear model's weights, one column per class, fitted before training
(seqlab_classify.convex, `--ngram-join convex`) and fixed: it never gets a gradient and is in
no layer group, so neither the optimiser nor gradual unfreezing touches it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from seqlab.nn.encoder import encoder_from_config
from seqlab.store.validate import check_arguments
from seqlab_classify.ngrams import Hasher, NgramSpec


class NgramEncoder(nn.Module):
    kind = "classify-ngrams"

    def __init__(
        self,
        inner: Any,
        spec: NgramSpec,
        dim: int = 64,
        pad_idx: int = 1,
        drop: float = 0.0,
        fitted: bool = False,
    ):
        super().__init__()
        if dim < 1:
            raise ValueError(f"the n-gram dimension must be at least 1, got {dim}")
        if not 0 <= drop < 1:
            raise ValueError(f"the n-gram dropout must be in [0, 1), got {drop}")
        self.inner = inner
        self.spec, self.dim, self.pad_idx, self.drop = spec, dim, pad_idx, drop
        self.blocks = spec.n_blocks
        self.hasher = Hasher(spec)  # one per model: its word cache serves every predict call
        # row `buckets` is the padding row: zero, never trained
        self.bag = nn.EmbeddingBag(spec.buckets + 1, dim, mode="sum", padding_idx=spec.buckets)
        self.fitted = fitted
        if fitted:
            self.bag.weight.requires_grad_(False)
        with torch.no_grad():
            if fitted:  # filled by set_linear
                self.bag.weight.zero_()
            else:
                self.bag.weight.normal_(std=0.1)
            self.bag.weight[spec.buckets].zero_()
        # fixed per-bucket weights (1: none); the padding row's is 0
        self.idf: Tensor
        self.register_buffer("idf", torch.ones(spec.buckets + 1))
        self.idf[spec.buckets] = 0.0
        self.config = {
            "inner_kind": getattr(inner, "kind", None) if inner is not None else None,
            "inner": inner.to_dict() if inner is not None else None,
            "ngrams": spec.to_dict(),
            "dim": dim,
            "pad_idx": pad_idx,
            "drop": drop,
            "fitted": fitted,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NgramEncoder:
        names = ("dim", "pad_idx", "drop", "fitted")
        scalars: dict[str, Any] = {k: config[k] for k in names if k in config}
        check_arguments(cls.__init__, scalars, "encoder")  # an edited JSON: types first
        if not isinstance(config.get("ngrams"), dict):
            raise ValueError("field 'encoder.ngrams' must be a JSON object")
        check_arguments(NgramSpec, config["ngrams"], "encoder.ngrams")
        inner = config.get("inner")
        built = encoder_from_config(inner, config.get("inner_kind")) if inner else None
        return cls(built, NgramSpec.from_dict(config["ngrams"]), **scalars)

    @property
    def inner_size(self) -> int:
        return self.inner.out_size if self.inner is not None else 0

    @property
    def out_size(self) -> int:
        return self.inner_size + self.blocks * (self.dim + 1)

    def bucket_ids(self, x: Tensor) -> Tensor:
        """(n, L, K) bucket of each n-gram entry; `spec.buckets` (the padding row) for none,
        and, while training, for each entry n-gram dropout leaves out."""
        g = x[..., 1:].long() - (self.pad_idx + 1)
        none = g < 0
        if self.training and self.drop > 0:
            none = none | (torch.rand(g.shape, device=g.device) < self.drop)
        return g.masked_fill(none, self.spec.buckets)

    def block_of(self, buckets: Tensor) -> Tensor:
        """The block (kind) of each bucket; the padding row's: the last."""
        return (buckets // self.spec.block_size).clamp(max=self.blocks - 1)

    def text_buckets(self, rows: Any) -> Tensor:
        """The bucket of every n-gram of one text's (tokens, 1 + K) rows, in order."""
        g = torch.as_tensor(np.asarray(rows)[:, 1:].astype("int64")).flatten() - (self.pad_idx + 1)
        return g[g >= 0]

    def set_idf(self, seqs: list, idf: bool = True) -> None:
        """Each bucket's weight: scikit-learn's smooth idf, ln((1 + n) / (1 + df)) + 1, over
        the (tokens, 1 + K) rows of the training texts `seqs` (1 without `idf`); 0 for a
        bucket no training text has. Why 0: an n-gram never seen in training has no learnt
        weight, but it would still count in the bag's norm, and a new document's many new
        words and names then shrank every known n-gram's share; scikit-learn's vocabulary
        drops such an n-gram, and so does this (GUM held-out documents: 0.328 -> 0.336 in
        scikit-learn on these features, docs/classify.md)."""
        df = torch.zeros(self.spec.buckets + 1)
        for rows in seqs:
            df[torch.unique(self.text_buckets(rows))] += 1
        n = len(seqs)
        with torch.no_grad():
            self.idf.copy_(torch.log((1 + n) / (1 + df)) + 1 if idf else torch.ones_like(df))
            self.idf[df == 0] = 0.0  # the padding row among them: text_buckets leaves it out

    def set_linear(self, weight: Tensor) -> None:
        """The fitted linear model's (buckets, dim) weights as the table (padding row: 0)."""
        with torch.no_grad():
            self.bag.weight[: self.spec.buckets].copy_(weight)

    def parts(self, x: Tensor) -> tuple[Tensor | None, Tensor, Tensor]:
        """(inner outputs or None, per-token weighted sums of n-gram vectors (n, L, B * dim),
        per-token sums of the squared weights (n, L, B): the counts, without idf)."""
        ids = self.bucket_ids(x)
        n, length, _ = ids.shape
        real = ids != self.spec.buckets
        # only the real entries go to the bag (a row is mostly padding): one bag per token and
        # block; a token's n-grams come in block order (ngrams.Hasher), so each bag is a run
        flat = ids[real]
        token = torch.nonzero(real)[:, :2]
        bag_of = (token[:, 0] * length + token[:, 1]) * self.blocks + self.block_of(flat)
        per_bag = torch.bincount(bag_of, minlength=n * length * self.blocks)
        offsets = torch.zeros_like(per_bag)
        offsets[1:] = per_bag.cumsum(0)[:-1]
        w = self.idf[flat]
        sums = self.bag(flat, offsets, per_sample_weights=w)
        sums = sums.view(n, length, self.blocks * self.dim)
        counts = torch.zeros(n * length * self.blocks, device=x.device).index_add_(0, bag_of, w**2)
        counts = counts.view(n, length, self.blocks)
        inner = self.inner(x[..., 0]) if self.inner is not None else None
        return inner, sums, counts

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, L, 1 + K) ids -> (n, L, out_size): [inner | n-gram sums | counts]."""
        inner, sums, counts = self.parts(x)
        return torch.cat([*([inner] if inner is not None else []), sums, counts], dim=-1)

    # The Encoder interface beyond forward: the inner encoder's, the bag training with the head.

    def reset(self) -> None:
        if self.inner is not None:
            self.inner.reset()

    def get_state(self) -> dict[str, Tensor]:
        return {}

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        """Fine-tuned encoders are stateless: nothing to restore."""

    def to_dict(self) -> dict[str, Any]:
        return self.config

    def layer_groups(self) -> list[list[nn.Parameter]]:
        groups = self.inner.layer_groups() if self.inner is not None else [[]]
        groups = [list(g) for g in groups]
        if not self.fitted:
            groups[-1] += list(self.bag.parameters())
        return groups
