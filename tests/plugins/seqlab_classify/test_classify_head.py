"""ClassifierHead: masked concat pooling ignores padding; the head trains on tiny batches."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import EncoderConfig, PaddedBatches, SeqModel, StatefulEncoder
from seqlab_classify.head import ClassifierHead, concat_pool


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=6), st.integers(0, 1000))
def test_concat_pool_matches_per_row_pooling(lengths, seed):
    g = torch.Generator().manual_seed(seed)
    width = max(lengths)
    hidden = torch.randn(len(lengths), width, 3, generator=g)
    mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    hidden[~mask] = 1e6  # padding positions hold garbage that must not leak into any pool
    pooled = concat_pool(hidden, mask)
    for r, n in enumerate(lengths):
        real = hidden[r, :n]
        expected = torch.cat([real[-1], real.max(0).values, real.mean(0)])
        assert torch.allclose(pooled[r], expected, atol=1e-5)


def tiny_model(n_classes=3, vocab_size=12):
    torch.manual_seed(0)
    enc = StatefulEncoder(EncoderConfig(vocab_size, hidden=8, layers=2, stateful=False))
    return SeqModel(enc, ClassifierHead(enc, n_classes, lin=6))


def test_prediction_does_not_depend_on_batch_mates():
    model = tiny_model().eval()
    short = np.array([2, 5, 6])
    alone = model(torch.from_numpy(short[None]), torch.ones(1, 3, dtype=torch.bool))
    batch = list(PaddedBatches([np.arange(2, 11), short], bs=2))[0]
    together = model(batch.x, batch.mask)
    row = int((batch.mask.sum(1) == 3).nonzero())
    assert torch.allclose(together[row], alone[0], atol=1e-5)


def test_head_learns_and_takes_a_batch_of_one():
    model = tiny_model(n_classes=2)
    rng = np.random.default_rng(0)
    seqs = [rng.integers(8, 12, size=rng.integers(2, 6)) for _ in range(33)]  # 33 = 4 x 8 + 1
    labels = [int(s[-1] >= 10) for s in seqs]
    data = PaddedBatches(seqs, labels, bs=8, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for epoch in range(30):
        data.set_epoch(epoch)
        model.train()
        for batch in data:  # one batch per epoch holds a single example
            loss = model.head.loss(model(batch.x, batch.mask), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    model.eval()
    steps = [model.head.eval_step(model(b.x, b.mask), b) for b in PaddedBatches(seqs, labels)]
    metrics = model.head.reduce(steps, 0.0)
    assert list(metrics) == ["accuracy", "macro_f1"]
    assert metrics["accuracy"] > 0.9  # the label is the last token: easy once it learns
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_config_round_trip():
    model = tiny_model(n_classes=4)
    head = ClassifierHead.from_config(model.head.config(), model.encoder)
    assert head.config() == {
        "n_classes": 4,
        "lin": 6,
        "drop": 0.2,
        "label_smoothing": 0.0,
        "class_weights": None,
        "ngram_dim": 0,  # no n-gram channel: the head of before
        "join": "features",
        "ngram_mode": "mean",
    }
