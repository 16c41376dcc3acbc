"""The neural cache: its formula, its contracts, and scoring with it."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import BPTTStream, EncoderConfig, SeqModel, StatefulEncoder
from seqlab_lm.cache import CacheConfig, NeuralCache
from seqlab_lm.head import LMHead
from seqlab_lm.scoring import score, tune

V = 12


def tiny_lm(seed: int = 0, hidden: int = 16) -> SeqModel:
    torch.manual_seed(seed)
    encoder = StatefulEncoder(EncoderConfig(vocab_size=V, hidden=hidden, layers=2, emb_size=8))
    return SeqModel(encoder, LMHead(encoder)).eval()


def reference(hidden, targets, cfg: CacheConfig, vocab_size: int):
    """p_cache straight from the paper, one position at a time (one row)."""
    out, has = [], []
    for t in range(len(hidden)):
        lo = max(0, t - cfg.window)
        p = torch.zeros(vocab_size, dtype=torch.float64)
        if t > lo:
            scores = torch.stack([cfg.theta * hidden[t] @ hidden[i] for i in range(lo, t)])
            w = torch.softmax(scores.double(), 0)
            for i, wi in zip(range(lo, t), w, strict=True):
                p[targets[i]] += wi
        out.append(p)
        has.append(t > lo)
    return torch.stack(out), has


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 30),
    cuts=st.lists(st.integers(1, 30), min_size=1, max_size=6),
    window=st.integers(1, 12),
    theta=st.floats(0.0, 3.0),
    seed=st.integers(0, 10_000),
)
def test_chunked_cache_equals_the_formula(n, cuts, window, theta, seed):
    """However the stream is cut into chunks, p_cache is the paper's formula over the
    previous `window` states of the same row."""
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(2, n, 5, generator=g)
    targets = torch.randint(0, V, (2, n), generator=g)
    cfg = CacheConfig(lam=0.5, theta=theta, window=window)
    cache, got, got_has, start = NeuralCache(cfg), [], [], 0
    for cut in cuts + [n]:
        end = min(n, start + cut)
        if end > start:
            p, has = cache.probs(hidden[:, start:end], V, targets[:, start:end])
            cache.add(hidden[:, start:end], targets[:, start:end])
            got.append(p)
            got_has.append(has)
        start = end
    p, has = torch.cat(got, 1), torch.cat(got_has)
    for row in range(2):
        want, want_has = reference(hidden[row], targets[row], cfg, V)
        torch.testing.assert_close(p[row].double(), want, atol=1e-5, rtol=1e-5)
        assert has.tolist() == want_has
    assert torch.allclose(p[:, has].sum(-1), torch.ones(()))  # a distribution where defined


def test_mix_interpolates_and_falls_back_to_the_model_when_empty():
    log_probs = torch.log_softmax(torch.randn(1, 3, V), -1)
    hidden = torch.randn(1, 3, 4)
    targets = torch.tensor([[5, 5, 5]])
    cache = NeuralCache(CacheConfig(lam=0.25, theta=1.0, window=10))
    mixed = cache.mix(hidden, log_probs, targets).exp()
    torch.testing.assert_close(mixed[0, 0], log_probs[0, 0].exp())  # nothing cached yet
    expected = 0.75 * log_probs[0, 1:].exp()
    expected[:, 5] += 0.25  # every cached entry says 5
    torch.testing.assert_close(mixed[0, 1:], expected)


def stream(tokens, bs, bptt=7):
    return BPTTStream([np.asarray(tokens, dtype=np.int64)], bs=bs, bptt=bptt)


def test_lam_zero_changes_nothing():
    model = tiny_lm()
    tokens = np.random.default_rng(0).integers(0, V, 400)
    plain, cached = score(model, stream(tokens, 4), CacheConfig(lam=0.0, theta=1.0, window=50))
    assert cached.n == plain.n and cached.correct == plain.correct
    assert cached.loss == pytest.approx(plain.loss, rel=1e-6)


def test_a_repeating_pattern_raises_its_probability():
    """An untrained LM knows nothing of the pattern; the cache finds it in the context."""
    pattern = [3, 7, 4, 9, 4, 2, 11]
    tokens = pattern * 40
    model = tiny_lm(1)
    plain, cached = score(model, stream(tokens, 2), CacheConfig(lam=0.5, theta=1.0, window=100))
    assert cached.loss < plain.loss - 0.5
    assert cached.correct > plain.correct


def test_batch_and_one_row_evaluation_agree():
    """A batch of bs rows scores exactly what each row scores alone."""
    model = tiny_lm(2)
    tokens = np.random.default_rng(1).integers(0, V, 301)
    bs, cfg = 4, CacheConfig(lam=0.3, theta=0.5, window=20)
    batch_plain, batch_cached = score(model, stream(tokens, bs), cfg)
    rows = (len(tokens) - 1) // bs
    loss = {"plain": 0.0, "cached": 0.0}
    correct = {"plain": 0, "cached": 0}
    for r in range(bs):
        row = tokens[r * rows : (r + 1) * rows + 1]  # the row's inputs and its last target
        plain, cached = score(model, stream(row, 1), cfg)
        for name, t in (("plain", plain), ("cached", cached)):
            loss[name] += t.loss
            correct[name] += t.correct
    assert batch_plain.n == bs * rows
    assert batch_plain.correct == correct["plain"]
    assert batch_cached.correct == correct["cached"]
    assert batch_plain.loss == pytest.approx(loss["plain"], rel=1e-5)
    assert batch_cached.loss == pytest.approx(loss["cached"], rel=1e-5)


def test_tune_prefers_the_cache_on_a_pattern_and_its_lam_zero_is_the_plain_model():
    model = tiny_lm(3)
    tokens = [5, 1, 8, 8, 3, 10] * 30
    plain, _ = score(model, stream(tokens, 2), None)
    results = tune(
        model, stream(tokens, 2), windows=[10, 50], thetas=[0.1, 1.0], lams=[0.0, 0.5, 0.9]
    )
    assert len(results) == 2 * 2 * 3
    for r in results:
        if r["lam"] == 0.0:
            assert r["loss"] == pytest.approx(plain.metrics()["loss"], rel=1e-6)
    best = min(results, key=lambda r: r["loss"])
    assert best["lam"] > 0 and best["loss"] < plain.metrics()["loss"]


def test_settings_round_trip_and_bad_values(tmp_path):
    cfg = CacheConfig(lam=0.2, theta=0.7, window=123)
    cfg.save(tmp_path, {"loss": 1.0})
    assert CacheConfig.load(tmp_path) == cfg
    assert CacheConfig.load(tmp_path / "cache.json") == cfg
    assert CacheConfig.for_run(tmp_path / "elsewhere", tmp_path)[0] == cfg
    assert CacheConfig.for_run(tmp_path / "elsewhere")[0] == CacheConfig()
    with pytest.raises(ValueError, match="no cache.json"):
        CacheConfig.for_run(tmp_path, tmp_path / "elsewhere")
    (tmp_path / "cache.json").write_text("{")
    with pytest.raises(ValueError, match="tune-cache"):
        CacheConfig.load(tmp_path)
    for bad in ({"lam": 1.0}, {"lam": -0.1}, {"theta": -1.0}, {"window": 0}):
        with pytest.raises(ValueError):
            CacheConfig(**bad)
