"""TaggerEncoder (forward + backward, padding-safe) and TagHead (softmax, CRF)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import Batch, EncoderConfig, SeqModel, StatefulEncoder, load_model, save_model
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.head import TagHead

V, PAD, BOS = 12, 1, 2


def encoder(layers=1, backward=True, hidden=5):
    def one(n):
        return StatefulEncoder(EncoderConfig(V, hidden=hidden, layers=n, stateful=False))

    return TaggerEncoder(one(layers), one(layers) if backward else None, BOS).eval()


def padded(rows):
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), PAD)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r)
    return x, x != PAD


rows = st.lists(st.lists(st.integers(3, V - 1), min_size=1, max_size=6), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(rows, st.integers(0, 1000))
def test_each_row_is_read_as_if_alone(batch_rows, seed):
    """Padding never reaches a real token's output, in either direction."""
    torch.manual_seed(seed)
    enc = encoder()
    x, _ = padded(batch_rows)
    with torch.no_grad():
        out = enc(x)
        for i, r in enumerate(batch_rows):
            alone = enc(torch.tensor([r]))
            assert torch.allclose(out[i, : len(r)], alone[0], atol=1e-5)


def test_backward_half_reads_xxbos_then_the_sentence_reversed():
    torch.manual_seed(0)
    enc = encoder()
    words = [5, 6, 7, 8]
    x, _ = padded([words, [9, 10]])
    with torch.no_grad():
        out = enc(x)
        manual = enc.bwd(torch.tensor([[BOS] + words[::-1]]))[0, 1:].flip(0)
        fwd = enc.fwd(torch.tensor([[BOS] + words]))[0, 1:]
    assert out.shape == (2, 4, 10)
    assert torch.allclose(out[0, :, 5:], manual, atol=1e-6)
    assert torch.allclose(out[0, :, :5], fwd, atol=1e-6)


def test_layer_groups_pair_directions_and_cover_every_parameter_once():
    enc = TaggerEncoder(
        StatefulEncoder(EncoderConfig(V, hidden=4, layers=3, stateful=False)),
        StatefulEncoder(EncoderConfig(V, hidden=4, layers=1, stateful=False)),
        BOS,
    )
    model = SeqModel(enc, TagHead(enc, ["A", "B"], crf=True))
    groups = model.layer_groups()
    assert len(groups) == 5  # embeddings, 3 layers, head
    ids = [id(p) for g in groups for p in g]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    assert len(set(ids)) == len(ids)
    top_layer = {id(p) for p in enc.fwd.rnns[2].parameters()} | {
        id(p) for p in enc.bwd.rnns[0].parameters()
    }
    assert {id(p) for p in groups[3]} == top_layer  # a shallower encoder aligns at the top


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    enc = encoder(layers=2)
    model = SeqModel(enc, TagHead(enc, ["A", "B", "C"], crf=True)).eval()
    meta = {
        "encoder_kind": "tagger",
        "encoder": enc.to_dict(),
        "head": {"kind": "tag", "config": model.head.config()},
        "vocab": ["xxunk", "xxpad", "xxbos"] + [f"w{i}" for i in range(V - 3)],
    }
    save_model(tmp_path / "best", model, meta)
    loaded, vocab, _ = load_model(tmp_path / "best")
    x, mask = padded([[3, 4, 5], [6]])
    with torch.no_grad():
        assert torch.allclose(model(x, mask), loaded.eval()(x, mask))
    assert loaded.head.decode(loaded(x, mask), mask) == model.head.decode(model(x, mask), mask)
    assert len(vocab) == V


def test_losses_ignore_padding():
    torch.manual_seed(0)
    enc = encoder()
    x, mask = padded([[3, 4, 5], [6]])
    y = torch.tensor([[0, 1, 2], [1, -100, -100]])
    for crf in (False, True):
        head = TagHead(enc, ["A", "B", "C"], crf=crf)
        out = torch.randn(2, 3, 3)
        noisy = out.clone()
        noisy[1, 1:] = 100.0  # pad positions
        batch = Batch(x, y, mask)
        assert torch.allclose(head.loss(out, batch), head.loss(noisy, batch))
        assert [len(r) for r in head.decode(noisy, mask)] == [3, 1]
        assert head.decode(noisy, mask)[0] == head.decode(out, mask)[0]


def test_softmax_decode_is_the_argmax():
    head = TagHead(encoder(), ["A", "B", "C"])
    out = torch.tensor([[[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]])
    assert head.decode(out, torch.ones(1, 2, dtype=torch.bool)) == [[1, 0]]
    assert head.names([1, 0]) == ["B", "A"]
