import pytest
import torch

from seqlab import EncoderConfig, StatefulEncoder


def make(cell="lstm", layers=2, **kw):
    torch.manual_seed(0)
    return StatefulEncoder(EncoderConfig(vocab_size=20, hidden=8, layers=layers, cell=cell, **kw))


def tokens(bs, length, seed=1):
    return torch.randint(0, 20, (bs, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("layers", [1, 3])
def test_output_shape(cell, layers):
    enc = make(cell, layers, emb_size=5)
    assert enc(tokens(4, 7)).shape == (4, 7, 8)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_state_is_carried_between_calls(cell):
    """Two halves with carried state give the same outputs as the whole sequence."""
    enc = make(cell).eval()
    x = tokens(3, 10)
    whole = enc(x)
    enc.reset()
    halves = torch.cat([enc(x[:, :6]), enc(x[:, 6:])], dim=1)
    assert torch.allclose(whole, halves, atol=1e-6)


def test_stateless_encoder_starts_every_batch_from_zero():
    enc = make(stateful=False).eval()
    x = tokens(3, 10)
    first = enc(x)
    assert enc.state is None
    assert torch.allclose(enc(x), first)


def test_state_is_detached_so_gradients_stop_at_the_batch_boundary():
    enc = make().train()
    enc(tokens(2, 5)).sum().backward()
    assert all(not t.requires_grad for t in enc.get_state().values())
    out = enc(tokens(2, 5, seed=2))  # would raise "backward through the graph a second time"
    out.sum().backward()


def test_reset_zeroes_the_state():
    enc = make().eval()
    x = tokens(2, 5)
    fresh = enc(x)
    enc(tokens(2, 5, seed=3))
    assert not torch.allclose(enc(x), fresh)
    enc.reset()
    assert torch.allclose(enc(x), fresh)


def test_smaller_batch_continues_the_first_rows():
    enc = make().eval()
    x = tokens(4, 9)
    full = enc(x)
    enc.reset()
    enc(x[:, :5])
    tail_two_rows = enc(x[:2, 5:])
    assert torch.allclose(tail_two_rows, full[:2, 5:], atol=1e-6)


def test_larger_batch_starts_from_zero():
    enc = make().eval()
    enc(tokens(2, 5))
    x = tokens(6, 5, seed=4)
    out = enc(x)
    enc.reset()
    assert torch.allclose(out, enc(x))


@pytest.mark.parametrize("drop", ["emb_drop", "input_drop", "hidden_drop", "weight_drop"])
def test_dropouts_act_in_training_only(drop):
    enc = make(stateful=False, **{drop: 0.5})
    x = tokens(4, 6)
    enc.train()
    assert not torch.allclose(enc(x), enc(x))
    enc.eval()
    assert torch.allclose(enc(x), enc(x))


def test_weight_drop_keeps_the_raw_weights_trainable():
    enc = make(weight_drop=0.5).train()
    enc(tokens(2, 5)).sum().backward()
    assert enc.rnns[0].weight_hh_l0.grad is not None
    assert enc.rnns[0].weight_hh_l0.grad.abs().sum() > 0


def test_batch_norm_normalises_output_features():
    enc = make(bn=True, stateful=False).train()
    out = enc(tokens(16, 12))
    flat = out.reshape(-1, 8)
    assert torch.allclose(flat.mean(0), torch.zeros(8), atol=1e-4)


def test_state_round_trips_through_named_tensors():
    enc = make().eval()
    enc(tokens(2, 5))
    saved = enc.get_state()
    after = enc(tokens(2, 3, seed=5))
    enc.set_state(saved)
    assert torch.allclose(enc(tokens(2, 3, seed=5)), after)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"cell": "transformer"}, "unknown cell"),
        ({"hidden": 0}, "hidden"),
        ({"emb_drop": 1.0}, "emb_drop"),
    ],
)
def test_bad_config_is_a_clear_error(kw, match):
    with pytest.raises(ValueError, match=match):
        EncoderConfig(vocab_size=5, **kw)
