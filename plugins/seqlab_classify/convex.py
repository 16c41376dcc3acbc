"""The n-gram channel fitted as a convex model first: multinomial logistic regression over the
TF-IDF bag, by full-batch L-BFGS to convergence (`--ngram-join convex`).

Why: trained jointly with the word view by one-cycle AdamW for a few epochs, the channel is a
rank-`dim` factorisation stopped early on held-out sentences; on GUM genre it stayed
0.01-0.02 below scikit-learn's TF-IDF + LogisticRegression over the same kind of n-grams
(held-out documents, docs/classify.md). That gap is the fit, not the features: the same
objective as scikit-learn's (`C` times the sum of the cross-entropies plus half the squared
weights, the bias not penalised) minimised to convergence closes most of it. The weights
then stay fixed, and the rest of the model learns what the linear logits leave
(head.ClassifierHead, join "convex").

The features are what NgramEncoder and the head compute: each text's bucket counts times the
idf weights, divided by the bag's norm (`mode`: l2, mean or sum). A test checks that the
fitted model's n-gram logits equal `features(...) @ weight + bias`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab_classify.ngram_encoder import NgramEncoder

MAX_ITER = 300  # L-BFGS iterations; GUM genre folds converge in 55-90


def features(seqs: list, encoder: NgramEncoder, mode: str) -> Tensor:
    """(n texts, buckets) sparse bag of each text's n-grams (`seqs`: (tokens, 1 + K) rows),
    weighted by the encoder's idf and normed as the head's bag (`mode`, each block alone)."""
    rows, cols, vals = [], [], []
    for i, seq in enumerate(seqs):
        g = encoder.text_buckets(seq)
        w = encoder.idf[g]
        block = encoder.block_of(g)
        # the head's count columns: the squared weights, per block
        count = torch.zeros(encoder.blocks).index_add_(0, block, w**2).clamp(min=1e-6)[block]
        if mode == "l2":
            w = w / count.sqrt()
        elif mode == "mean":
            w = w / count.clamp(min=1)
        w = w / encoder.blocks**0.5
        rows.append(torch.full_like(g, i))
        cols.append(g)
        vals.append(w)
    index = torch.stack([torch.cat(rows), torch.cat(cols)])
    size = (len(seqs), encoder.spec.buckets)
    bag = torch.sparse_coo_tensor(index, torch.cat(vals), size, check_invariants=True)
    return bag.coalesce()  # an n-gram twice in a text: its weights added


def fit(
    x: Tensor, y: list[int], n_classes: int, c: float, class_weight: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """(weight (buckets, classes), bias (classes)) minimising C * sum of the (class-weighted)
    cross-entropies + |weight|^2 / 2: scikit-learn's multinomial LogisticRegression(C=c) (for
    two classes scikit-learn fits one weight vector, the difference of these two columns,
    so this equals its fit at 2C)."""
    buckets = x.shape[1]
    target = torch.as_tensor(y)
    # only the buckets some training text has: the others' weights are 0 at the optimum (the
    # penalty alone pulls on them), and leaving them out makes each step ~5x cheaper
    used, cols = torch.unique(x.indices()[1], return_inverse=True)
    x = torch.sparse_coo_tensor(
        torch.stack([x.indices()[0], cols]),
        x.values(),
        (x.shape[0], len(used)),
        check_invariants=True,
    ).coalesce()
    weight = torch.zeros(len(used), n_classes, requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight, bias], lr=1, max_iter=MAX_ITER, tolerance_grad=1e-6, line_search_fn="strong_wolfe"
    )
    n = len(y)

    def closure() -> Tensor:
        opt.zero_grad()
        logits = x @ weight + bias
        ce = F.cross_entropy(logits, target, weight=class_weight, reduction="sum")
        # divided by C n: the same minimum, a loss of the size L-BFGS's tolerances expect
        loss = (ce + (weight**2).sum() / (2 * c)) / n
        loss.backward()
        return loss

    opt.step(closure)
    full = torch.zeros(buckets, n_classes)
    full[used] = weight.detach()
    return full, bias.detach()
