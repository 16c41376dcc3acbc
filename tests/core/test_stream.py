"""BPTTStream against the contracts in docs/design.md.

Most tests feed streams whose token ids are their positions (documents cut from np.arange(N)),
so the expected position of every token can be written straight from the contract.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.data.stream import BPTTStream

DTYPES = [np.uint16, np.uint32, np.int64]


def position_docs(n: int, cuts: list[int], dtype=np.uint32) -> list[np.ndarray]:
    """np.arange(n) cut into documents at `cuts`: token id == position in the stream."""
    return np.split(np.arange(n, dtype=dtype), sorted(cuts))


def expected_rows(n: int, bs: int, bptt: int, layout: str) -> np.ndarray:
    """The x positions of every row over a whole epoch, straight from docs/design.md."""
    if layout == "contiguous":
        m = (n - 1) // bs
        return np.array([np.arange(r * m, (r + 1) * m) for r in range(bs)])
    length = math.ceil(n / (bs * bptt)) * bptt
    return np.array([(math.floor(r * n / bs) + np.arange(length)) % n for r in range(bs)])


def read_stream(docs, shuffle=False, seed=0, epoch=0) -> np.ndarray:
    """The whole stream as BPTTStream sees it: with bs=1, the x's and then the last target."""
    s = BPTTStream(docs, bs=1, bptt=1000, shuffle=shuffle, seed=seed)
    s.set_epoch(epoch)
    batches = list(s)
    return np.concatenate([x[0].numpy() for x, _ in batches] + [batches[-1][1][0, -1:].numpy()])


@st.composite
def configs(draw):
    bs = draw(st.integers(1, 12))
    n = draw(st.integers(bs + 1, 300))
    n_docs = draw(st.integers(1, min(n, 6)))
    cuts = draw(st.lists(st.integers(1, n - 1), min_size=n_docs - 1, max_size=n_docs - 1))
    return dict(
        n=n,
        docs=position_docs(n, sorted(set(cuts)), draw(st.sampled_from(DTYPES))),
        bs=bs,
        bptt=draw(st.integers(1, 25)),
        layout=draw(st.sampled_from(["contiguous", "fastai-v1"])),
        random_bptt=draw(st.booleans()),
        world_size=draw(st.sampled_from([w for w in range(1, bs + 1) if bs % w == 0])),
        seed=draw(st.integers(0, 2**16)),
        epoch=draw(st.integers(0, 5)),
    )


@settings(max_examples=100, deadline=None)
@given(configs())
def test_batches_follow_the_layout(c):
    n, bs, bptt, layout = c["n"], c["bs"], c["bptt"], c["layout"]
    s = BPTTStream(c["docs"], bs, bptt, layout, random_bptt=c["random_bptt"], seed=c["seed"])
    s.set_epoch(c["epoch"])
    batches = list(s)
    assert len(s) == len(batches) > 0
    assert s.n_tokens == n
    for x, y in batches:
        assert x.dtype == y.dtype == torch.int64
        assert x.shape == y.shape and x.shape[0] == bs
        # y is x shifted by one token in the stream (which wraps in fastai-v1).
        assert torch.equal(y, (x + 1) % n if layout == "fastai-v1" else x + 1)
    # Row continuity: batch k+1's row r begins with the token after batch k's row r.
    for (x0, _), (x1, _) in zip(batches, batches[1:], strict=False):
        assert torch.equal(x1[:, 0], (x0[:, -1] + 1) % n)
    # All batches of an epoch side by side give exactly the rows of the layout.
    rows = torch.cat([x for x, _ in batches], dim=1).numpy()
    np.testing.assert_array_equal(rows, expected_rows(n, bs, bptt, layout))

    widths = [x.shape[1] for x, _ in batches]
    if not c["random_bptt"]:
        assert widths[:-1] == [bptt] * (len(widths) - 1)
        assert 1 <= widths[-1] <= bptt
        if layout == "fastai-v1":
            assert widths[-1] == bptt
    else:
        assert all(w >= 5 for w in widths[:-1])  # only the row's end may cut a batch short
    if layout == "contiguous":
        # Every used position is predicted exactly once; only a tail of < bs is dropped.
        targets = np.sort(torch.cat([y for _, y in batches], dim=1).numpy().ravel())
        np.testing.assert_array_equal(targets, np.arange(1, len(targets) + 1))
        assert 0 <= (n - 1) - len(targets) < bs


@settings(max_examples=60, deadline=None)
@given(configs(), st.booleans())
def test_ranks_split_the_rows_of_the_single_process_batch(c, shuffle):
    kw = dict(
        bs=c["bs"],
        bptt=c["bptt"],
        layout=c["layout"],
        random_bptt=c["random_bptt"],
        shuffle=shuffle,
        seed=c["seed"],
    )
    w = c["world_size"]
    single = BPTTStream(c["docs"], **kw)
    single.set_epoch(c["epoch"])
    whole = list(single)
    for rank in range(w):
        s = BPTTStream(c["docs"], rank=rank, world_size=w, **kw)
        s.set_epoch(c["epoch"])
        part = list(s)
        assert len(s) == len(part) == len(whole)
        for (x, y), (wx, wy) in zip(part, whole, strict=True):
            assert x.shape[0] == c["bs"] // w
            assert torch.equal(x, wx[rank::w]) and torch.equal(y, wy[rank::w])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(2, 30), min_size=1, max_size=12),
    st.integers(0, 2**16),
    st.integers(0, 5),
)
def test_shuffle_moves_whole_documents(lengths, seed, epoch):
    n = sum(lengths)
    docs = position_docs(n, list(np.cumsum(lengths)[:-1]))
    stream = read_stream(docs, True, seed, epoch)
    assert len(stream) == n
    # Walk the stream: each document must appear as one contiguous, intact run.
    starts = {int(d[0]): d for d in docs}
    pos, seen = 0, []
    while pos < n:
        doc = starts[int(stream[pos])]
        np.testing.assert_array_equal(stream[pos : pos + len(doc)], doc)
        seen.append(int(doc[0]))
        pos += len(doc)
    assert sorted(seen) == sorted(starts)
    # The same (seed, epoch) gives the same order.
    np.testing.assert_array_equal(stream, read_stream(docs, True, seed, epoch))


def test_shuffle_changes_order_between_epochs_and_not_without_shuffle():
    docs = position_docs(200, list(range(10, 200, 10)))  # 20 documents
    orders = {tuple(read_stream(docs, True, 0, e)[::10]) for e in range(4)}
    assert len(orders) == 4
    assert not np.array_equal(read_stream(docs, True, 0, 0), read_stream(docs, True, 1, 0))
    np.testing.assert_array_equal(read_stream(docs), np.arange(200))


def test_random_bptt_follows_the_awd_lstm_rule_and_is_seeded_by_epoch():
    docs = np.arange(200_001, dtype=np.uint32)
    s = BPTTStream(docs, bs=2, bptt=70, random_bptt=True, seed=3)
    widths = np.array([x.shape[1] for x, _ in s])
    assert widths.sum() == 100_000 and len(s) == len(widths)
    assert widths[:-1].min() >= 5
    # A mixture of N(70, 5) with weight 0.95 and N(35, 5) with weight 0.05.
    short = widths[:-1] < 52
    assert 0.03 < short.mean() < 0.07
    assert abs(widths[:-1][~short].mean() - 70) < 0.5
    assert 4 < widths[:-1][~short].std() < 6
    assert abs(widths[:-1][short].mean() - 35) < 2

    def draw(seed, epoch):
        t = BPTTStream(docs, bs=2, bptt=70, random_bptt=True, seed=seed)
        t.set_epoch(epoch)
        return [x.shape[1] for x, _ in t]

    assert draw(3, 0) == list(widths)
    assert draw(3, 1) != draw(3, 0)
    assert draw(4, 0) != draw(3, 0)
    s.set_epoch(1)
    assert len(s) == len(draw(3, 1))


def test_resume_at_an_epoch_replays_it_exactly():
    docs = position_docs(500, [37, 120, 121, 300, 444])
    kw = dict(bs=4, bptt=9, random_bptt=True, shuffle=True, seed=7)
    trained = BPTTStream(docs, **kw)
    for epoch in range(4):
        trained.set_epoch(epoch)
        last_epoch = [(x.clone(), y.clone()) for x, y in trained]
    resumed = BPTTStream(docs, **kw)
    resumed.set_epoch(3)
    for (x, y), (rx, ry) in zip(last_epoch, resumed, strict=True):
        assert torch.equal(x, rx) and torch.equal(y, ry)


def test_a_single_array_is_one_document():
    doc = np.arange(100, dtype=np.uint16)
    a, b = list(BPTTStream(doc, 4, 7)), list(BPTTStream([doc], 4, 7))
    assert all(
        torch.equal(x, bx) and torch.equal(y, by) for (x, y), (bx, by) in zip(a, b, strict=True)
    )


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memmap_is_never_copied_as_int64(tmp_path):
    n = 4_000_000
    path = tmp_path / "ids.npy"
    np.save(path, (np.arange(n) % 60_000).astype(np.uint16))
    ids = np.load(path, mmap_mode="r")

    def one_doc():
        s = BPTTStream(ids, bs=64, bptt=70, random_bptt=True, shuffle=True)
        s.set_epoch(1)
        x, y = next(iter(s))
        assert x.dtype == torch.int64 and int(y[1, 0]) == int(ids[(n - 1) // 64 + 1])

    # One document is gathered from in place: nothing the size of the corpus is allocated.
    assert _peak_bytes(one_doc) < n // 4

    def several_docs():
        s = BPTTStream([ids[:1000], ids[1000 : n // 2], ids[n // 2 :]], bs=64, bptt=70)
        next(iter(s))

    # Several documents are joined once, in their own uint16 (2n bytes), not as int64 (8n).
    assert _peak_bytes(several_docs) < 3 * n


def test_human_numbers_worked_examples():
    from seqlab_human_numbers.corpus import human_numbers

    corpus = human_numbers()
    valid, vocab = corpus.split("valid"), corpus.vocab
    assert sum(len(d) for d in valid) == 13_017

    batches = list(BPTTStream(valid, bs=64, bptt=70))
    assert [tuple(x.shape) for x, _ in batches] == [(64, 70), (64, 70), (64, 63)]
    assert vocab.textify(batches[0][0][0, :8]) == "xxbos eight thousand one , eight thousand two"

    batches = list(BPTTStream(valid, bs=64, bptt=70, layout="fastai-v1"))
    assert [tuple(x.shape) for x, _ in batches] == [(64, 70)] * 3
    end = "nine thousand nine hundred ninety nine xxbos eight thousand one , eight"
    assert vocab.textify(batches[2][0][63]).endswith(end)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bs=0, bptt=70), "bs must be at least 1"),
        (dict(bs=4, bptt=0), "bptt must be at least 1"),
        (dict(bs=4, bptt=7, layout="fastai"), "unknown layout"),
        (dict(bs=4, bptt=7, world_size=0), "world_size must be at least 1"),
        (dict(bs=4, bptt=7, world_size=2, rank=2), "rank must be in 0..1"),
        (dict(bs=4, bptt=7, world_size=2, rank=-1), "rank must be in 0..1"),
        (dict(bs=6, bptt=7, world_size=4), "bs=6 is not divisible by world_size=4"),
    ],
)
def test_invalid_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BPTTStream(np.arange(100), **kwargs)


@pytest.mark.parametrize("layout", ["contiguous", "fastai-v1"])
def test_a_corpus_too_small_for_one_batch_is_an_error(layout):
    # bs rows need bs + 1 tokens: one token with a next token per row.
    assert len(list(BPTTStream(np.arange(65), bs=64, bptt=70, layout=layout))) == 1
    with pytest.raises(ValueError, match="corpus has 64 tokens, too few .* bs=64 .* lower --bs"):
        BPTTStream(np.arange(64), bs=64, bptt=70, layout=layout)
    with pytest.raises(ValueError, match="corpus has 0 tokens"):
        BPTTStream([], bs=1, bptt=70, layout=layout)


def test_documents_must_be_1d_integer_arrays():
    with pytest.raises(ValueError, match="1-d integer"):
        BPTTStream([np.arange(10.0)], bs=2, bptt=3)
