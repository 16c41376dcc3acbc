"""PaddedBatches against its contract (seqlab/data/batches.py): every example exactly once per
epoch, masks exactly on real tokens, bs and token budget respected, targets aligned."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.data.batches import PAD_LABEL, PaddedBatches, flip_padded

PAD = 1


def make_seqs(lengths: list[int]) -> list[np.ndarray]:
    """Example i is filled with token id i + 2 (never the pad id), so a row names its example."""
    return [np.full(n, i + 2, dtype=np.uint16) for i, n in enumerate(lengths)]


@st.composite
def datasets(draw):
    lengths = draw(st.lists(st.integers(1, 30), min_size=1, max_size=80))
    bs = draw(st.integers(1, 16))
    max_tokens = draw(st.one_of(st.none(), st.integers(1, 200)))
    shuffle = draw(st.booleans())
    pool = draw(st.integers(1, 5))
    # a reader's own cost per example to sort by (a char LM's characters), or the lengths
    n = len(lengths)
    sizes = draw(st.one_of(st.none(), st.lists(st.integers(1, 50), min_size=n, max_size=n)))
    return lengths, bs, max_tokens, shuffle, pool, sizes


@settings(max_examples=150, deadline=None)
@given(datasets(), st.integers(0, 3), st.integers(0, 2**16))
def test_contract(data, epoch, seed):
    lengths, bs, max_tokens, shuffle, pool, sizes = data
    seqs = make_seqs(lengths)
    pb = PaddedBatches(
        seqs,
        labels=list(range(len(seqs))),
        bs=bs,
        max_tokens=max_tokens,
        shuffle=shuffle,
        seed=seed,
        pad_idx=PAD,
        pool=pool,
        sizes=sizes,
    )
    pb.set_epoch(epoch)
    seen = []
    batches = list(pb)
    assert len(batches) == len(pb)
    for batch, idx in zip(batches, pb.plan(), strict=True):
        rows, width = batch.x.shape
        # no example lost or duplicated, and each row holds the example the plan names
        seen += batch.y.tolist()
        assert batch.y.tolist() == list(idx)
        # masks cover exactly the real tokens
        for r, i in enumerate(batch.y.tolist()):
            assert batch.mask[r].sum() == lengths[i]
            assert (batch.x[r][batch.mask[r]] == i + 2).all()
            assert (batch.x[r][~batch.mask[r]] == PAD).all()
            assert batch.mask[r, : lengths[i]].all()  # real tokens first: right padding
        assert width == max(lengths[i] for i in idx)  # padded to the batch's longest, no more
        # bs and the token budget (a single over-long example may sit alone)
        assert rows <= bs
        if max_tokens is not None and rows > 1:
            assert rows * width <= max_tokens
    assert sorted(seen) == list(range(len(seqs)))
    if not shuffle:  # longest first by sizes (else lengths), ties in input order
        key = sizes if sizes is not None else lengths
        assert seen == sorted(range(len(seqs)), key=lambda i: -key[i])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=40), st.integers(1, 8), st.integers(1, 5))
def test_feature_columns_pad_like_token_ids(lengths, bs, n_features):
    """(tokens, F) examples: x is (n, L, F); every column of a real token is the example's,
    every column of a pad position is the pad id, and the mask is as for token ids."""
    seqs = [np.tile(np.arange(n_features) + 10 * (i + 1), (n, 1)) for i, n in enumerate(lengths)]
    pb = PaddedBatches(seqs, list(range(len(seqs))), bs=bs, shuffle=True, seed=1, pad_idx=PAD)
    for batch in pb:
        assert batch.x.shape[::2] == (len(batch.y), n_features)
        for r, i in enumerate(batch.y.tolist()):
            assert batch.mask[r].sum() == lengths[i]
            assert (batch.x[r][batch.mask[r]] == torch.from_numpy(seqs[i][0])).all()
            assert (batch.x[r][~batch.mask[r]] == PAD).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=40), st.integers(1, 8))
def test_per_token_labels_align_with_tokens(lengths, bs):
    seqs = make_seqs(lengths)
    tags = [np.arange(n) + 10 * i for i, n in enumerate(lengths)]
    pb = PaddedBatches(seqs, tags, bs=bs, shuffle=True, seed=3, pad_idx=PAD)
    for batch in pb:
        assert batch.y.shape == batch.x.shape
        assert (batch.y[~batch.mask] == PAD_LABEL).all()
        for r in range(batch.x.size(0)):
            i = int(batch.x[r, 0]) - 2
            assert batch.y[r][batch.mask[r]].tolist() == tags[i].tolist()


def test_shuffle_is_seeded_per_epoch_and_eval_order_is_longest_first():
    seqs = make_seqs([3, 7, 1, 7, 5] * 20)
    a = PaddedBatches(seqs, [0] * 100, bs=4, shuffle=True, seed=1)
    b = PaddedBatches(seqs, [0] * 100, bs=4, shuffle=True, seed=1)
    plans = []
    for e in range(2):
        a.set_epoch(e), b.set_epoch(e)
        assert [p.tolist() for p in a.plan()] == [p.tolist() for p in b.plan()]
        plans.append([p.tolist() for p in a.plan()])
    assert plans[0] != plans[1]
    ev = PaddedBatches(seqs, [0] * 100, bs=4)
    flat = np.concatenate(ev.plan())
    assert (np.diff(ev.lengths[flat]) <= 0).all()


def test_sortish_batches_waste_little_padding():
    rng = np.random.default_rng(0)
    seqs = make_seqs(rng.integers(1, 60, size=500).tolist())
    pb = PaddedBatches(seqs, [0] * 500, bs=16, shuffle=True, seed=0)
    padded = sum(b.x.numel() for b in pb)
    real = sum(len(s) for s in seqs)
    assert padded < 1.2 * real  # random batches of 16 would pad about 1.9x


def test_unlabelled_batches_for_prediction():
    pb = PaddedBatches(make_seqs([2, 3]), bs=8)
    (batch,) = list(pb)
    assert batch.y.numel() == 0 and batch.x.shape == (2, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seqs": make_seqs([2, 0, 1])}, "example 1 is empty"),
        ({"seqs": make_seqs([2]), "labels": [0, 1]}, "2 labels for 1 sequences"),
        ({"seqs": make_seqs([2]), "labels": [np.zeros(3)]}, "2 tokens but 3 labels"),
        ({"seqs": make_seqs([2]), "bs": 0}, "bs must be at least 1"),
        ({"seqs": make_seqs([2]), "max_tokens": 0}, "max_tokens must be at least 1"),
        ({"seqs": []}, "no examples"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PaddedBatches(**kwargs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=10))
def test_flip_padded_reverses_real_tokens_only(lengths):
    pb = PaddedBatches([np.arange(n) + 2 for n in lengths], bs=len(lengths), pad_idx=PAD)
    (batch,) = list(pb)
    flipped = flip_padded(batch.x, batch.mask)
    for r in range(batch.x.size(0)):
        m = batch.mask[r]
        assert flipped[r][m].tolist() == batch.x[r][m].flip(0).tolist()
        assert (flipped[r][~m] == PAD).all()
    feats = torch.randn(*batch.x.shape, 3)
    assert torch.equal(flip_padded(flip_padded(feats, batch.mask), batch.mask), feats)
