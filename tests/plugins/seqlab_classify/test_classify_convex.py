"""--ngram-join convex: the n-gram channel as a logistic regression fitted first and then
fixed. The fit is scikit-learn's LogisticRegression(C) on the features the model computes, the
model's n-gram logits are that regression's, and training never moves them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from seqlab import SeqModel, Vocab
from seqlab_classify import convex
from seqlab_classify.data import encode
from seqlab_classify.head import ClassifierHead
from seqlab_classify.ngram_encoder import NgramEncoder
from seqlab_classify.ngrams import Hasher, NgramSpec
from seqlab_classify.task import fit_ngrams
from seqlab_classify.wordview import WordView

TEXTS = ["a good film", "good good fun", "a bad film", "bad and dull", "dull film", "fun fun",
         "a film", "so so", "so so film"]  # fmt: skip
LABELS = [0, 0, 1, 1, 1, 0, 2, 2, 2]  # three classes: scikit-learn's fit is then multinomial


def model(mode: str, word_view: bool) -> tuple[SeqModel, list]:
    torch.manual_seed(0)
    words = sorted({w for t in TEXTS for w in t.split()})
    vocab = Vocab(["xxunk", "xxpad", "xxbos", *words])
    spec = NgramSpec(buckets=97, per_word=16)
    inner = WordView(len(vocab), emb_size=4, hidden=3) if word_view else None
    encoder = NgramEncoder(inner, spec, dim=3, pad_idx=1, fitted=True)
    head = ClassifierHead(encoder, 3, lin=4, ngram_dim=3, join="convex", ngram_mode=mode)
    seqs = encode(TEXTS, vocab, False, "word", Hasher(spec))
    encoder.set_idf(seqs)
    return SeqModel(encoder, head), seqs


def logits(m: SeqModel, seqs: list) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    x = torch.ones(len(seqs), width, seqs[0].shape[1], dtype=torch.long)  # padding: 1
    mask = torch.zeros(len(seqs), width, dtype=torch.bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = torch.from_numpy(s.astype(np.int64))
        mask[i, : len(s)] = True
    m.eval()
    with torch.no_grad():
        return m.head(m.encoder(x), mask)


@pytest.mark.parametrize("mode", ["l2", "mean", "sum"])
def test_the_fit_is_scikit_learns_and_the_model_predicts_with_it(mode):
    m, seqs = model(mode, word_view=False)
    fit_ngrams(m, seqs, LABELS, c=10.0)
    enc = m.encoder
    x = convex.features(seqs, enc, mode)
    want = LogisticRegression(C=10.0, tol=1e-10, max_iter=10_000).fit(x.to_dense().numpy(), LABELS)
    got = logits(m, seqs)
    np.testing.assert_allclose(
        torch.softmax(got, 1).numpy(), want.predict_proba(x.to_dense().numpy()), atol=2e-4
    )
    # the model's logits are the features times the table plus the bias: one computation
    torch.testing.assert_close(got, x @ enc.bag.weight[:97] + m.head.ngram_bias, atol=1e-5,
                               rtol=1e-5)  # fmt: skip


def test_a_stronger_penalty_gives_smaller_weights():
    m, seqs = model("l2", word_view=False)
    x = convex.features(seqs, m.encoder, "l2")
    small, _ = convex.fit(x, LABELS, 3, c=0.1)
    large, _ = convex.fit(x, LABELS, 3, c=100.0)
    assert small.norm() < large.norm() / 5


def test_training_never_moves_the_fitted_table_and_the_residual_starts_at_zero():
    m, seqs = model("l2", word_view=True)
    fit_ngrams(m, seqs, LABELS, c=10.0)
    fitted = m.encoder.bag.weight.clone()
    x = convex.features(seqs, m.encoder, "l2")
    # the MLP's output layer starts at zero: the first predictions are the regression's
    torch.testing.assert_close(logits(m, seqs), x @ fitted[:97] + m.head.ngram_bias,
                               atol=1e-5, rtol=1e-5)  # fmt: skip
    m.freeze_to(0)  # gradual unfreezing's "everything"
    grouped = {id(p) for g in m.layer_groups() for p in g}
    assert id(m.encoder.bag.weight) not in grouped
    assert not m.encoder.bag.weight.requires_grad
    m.train()
    out = m.head(m.encoder(torch.from_numpy(seqs[0].astype(np.int64))[None]), None)
    out.sum().backward()
    assert m.encoder.bag.weight.grad is None
    assert m.head.layers[-1].weight.grad.abs().sum() > 0  # the residual does learn
    torch.testing.assert_close(m.encoder.bag.weight, fitted, rtol=0, atol=0)


def test_the_fitted_flag_and_bias_survive_the_config_and_state():
    m, seqs = model("l2", word_view=False)
    fit_ngrams(m, seqs, LABELS, c=10.0)
    enc = NgramEncoder.from_config(m.encoder.to_dict())
    head = ClassifierHead.from_config(m.head.config(), enc)
    again = SeqModel(enc, head)
    again.load_state_dict(m.state_dict())
    assert not enc.bag.weight.requires_grad
    torch.testing.assert_close(logits(again, seqs), logits(m, seqs), rtol=0, atol=0)


def test_convex_needs_a_column_per_class():
    encoder = NgramEncoder(None, NgramSpec(buckets=7), dim=3, pad_idx=1, fitted=True)
    with pytest.raises(ValueError, match="column per class"):
        ClassifierHead(encoder, 2, ngram_dim=3, join="convex")
