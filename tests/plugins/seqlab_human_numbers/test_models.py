"""The lesson's six models, built from their presets exactly as `seqlab pretrain --model` does."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import Batch, load_model, registry, save_model
from seqlab_human_numbers.models import LoopConfig, LoopEncoder, Unrolled3Encoder
from seqlab_lm.data import build_data
from seqlab_lm.lesson import run_config
from seqlab_lm.training import build_model

PRESETS = registry.presets("human-numbers")
VOCAB = registry.corpus("human-numbers").vocab
MODELS = ["model0", "model1", "model2", "model3", "model4", "model5"]


def preset_config(name, **overrides):
    return run_config("human-numbers", VOCAB, name, PRESETS[name], seed=0, overrides=overrides)


def preset_model(name, seed=0):
    torch.manual_seed(seed)
    return build_model(preset_config(name, device="cpu"))


def test_the_six_presets_are_registered_in_the_lessons_order():
    assert list(PRESETS) == MODELS
    for p in PRESETS.values():
        assert p["help"] and 0 < p["reference"]["accuracy"] < 1


@pytest.mark.parametrize("name", MODELS)
def test_output_shapes(name):
    model = preset_model(name)
    bptt = preset_config(name)["data"]["bptt"]
    x = torch.randint(0, len(VOCAB), (5, bptt))
    hidden = model.encoder(x)
    assert hidden.shape == (5, bptt, 64)
    out = model(x)
    last_only = name in ("model0", "model1")
    assert out.shape == ((5, len(VOCAB)) if last_only else (5, bptt, len(VOCAB)))


@pytest.mark.parametrize("name", MODELS)
def test_loss_goes_down_within_a_few_steps(name):
    """A few dozen steps on the real stream lower the loss on a fixed held-out batch."""
    config = preset_config(name, device="cpu")
    torch.manual_seed(0)
    model = build_model(config)
    train, valid, _ = build_data(config)
    held = next(iter(valid))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def held_loss():
        model.eval()
        model.reset()
        with torch.no_grad():
            return model.head.loss(model(held[0]), Batch(*held)).item()

    before = held_loss()
    model.train()
    model.reset()
    for i, (x, y) in enumerate(train):
        if i == 30:
            break
        loss = model.head.loss(model(x), Batch(x, y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert held_loss() < before - 0.3


def _outputs_on_b(model, xa, xb, feed_a_first):
    model.eval()
    model.reset()
    with torch.no_grad():
        if feed_a_first:
            model(xa)
        return model(xb)


@pytest.mark.parametrize("name", ["model3", "model4", "model5"])
def test_state_is_kept_across_batches(name):
    model = preset_model(name)
    xa, xb = torch.randint(0, len(VOCAB), (2, 4, 20))
    fresh = _outputs_on_b(model, xa, xb, feed_a_first=False)
    after_a = _outputs_on_b(model, xa, xb, feed_a_first=True)
    assert not torch.allclose(fresh, after_a), "batch A's state must change batch B's outputs"
    # ...and reset() really forgets it
    model.reset()
    with torch.no_grad():
        assert torch.allclose(model(xb), fresh)


@pytest.mark.parametrize("name", ["model0", "model1", "model2"])
def test_state_is_reset_for_every_batch(name):
    model = preset_model(name)
    bptt = preset_config(name)["data"]["bptt"]
    xa, xb = torch.randint(0, len(VOCAB), (2, 4, bptt))
    fresh = _outputs_on_b(model, xa, xb, feed_a_first=False)
    after_a = _outputs_on_b(model, xa, xb, feed_a_first=True)
    assert torch.equal(fresh, after_a)


def test_kept_state_is_detached_and_continues_the_first_rows_of_a_smaller_batch():
    model = preset_model("model3")
    model.train()
    x = torch.randint(0, len(VOCAB), (6, 20))
    model(x).sum().backward()
    state = model.encoder.state
    assert state.shape == (6, 64) and not state.requires_grad
    model.eval()
    with torch.no_grad():
        smaller = model.encoder(x[:2, :3])
        model.encoder.state = state[:2]
        assert torch.equal(smaller, model.encoder(x[:2, :3]))
        model.encoder.reset()
        assert not torch.equal(smaller, model.encoder(x[:2, :3]))


@settings(max_examples=25, deadline=None)
@given(
    bs=st.integers(2, 8),
    length=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    training=st.booleans(),
    bn_inside=st.booleans(),
)
def test_model0_and_model1_compute_the_same_thing(bs, length, seed, training, bn_inside):
    """The hand-unrolled recurrence and the loop agree for the same weights and input."""
    config = LoopConfig(vocab_size=38, hidden=16, bn=True, bn_inside=bn_inside, stateful=False)
    torch.manual_seed(seed)
    unrolled, loop = Unrolled3Encoder(config), LoopEncoder(config)
    loop.load_state_dict(unrolled.state_dict())
    x = torch.randint(0, 38, (bs, length))
    unrolled.train(training)
    loop.train(training)
    assert torch.allclose(unrolled(x), loop(x), atol=1e-6)


def test_model0_refuses_more_than_three_tokens():
    model = preset_model("model0")
    with pytest.raises(ValueError, match="unrolled for 3 tokens"):
        model(torch.zeros(2, 4, dtype=torch.long))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"layers": 2}, "1 layer"),
        ({"emb_size": 32}, "emb_size"),
        ({"input_drop": 0.1}, "input_drop"),
    ],
)
def test_hand_written_recurrence_rejects_what_it_cannot_do(change, message):
    with pytest.raises(ValueError, match=message):
        LoopConfig(vocab_size=38, hidden=64, **change)


@pytest.mark.parametrize("name", ["model0", "model1", "model3", "model5"])
def test_checkpoint_reloads_the_same_model(tmp_path, name):
    config = preset_config(name, device="cpu")
    model = preset_model(name, seed=3)
    meta = {k: config[k] for k in ("encoder", "head") if k in config}
    meta.update(encoder_kind=config.get("encoder_kind"), vocab=VOCAB.itos)
    save_model(tmp_path / "m", model, meta)
    loaded, vocab, _ = load_model(tmp_path / "m")
    assert type(loaded.encoder) is type(model.encoder)
    x = torch.randint(0, len(VOCAB), (4, config["data"]["bptt"]))
    model.eval()
    loaded.eval()
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
