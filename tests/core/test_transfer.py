"""Transfer: vocab matching, encoder loading, discriminative lrs, gradual unfreezing."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from seqlab.data.batches import PaddedBatches
from seqlab.data.vocab import SPECIALS, Vocab
from seqlab.nn.encoder import EncoderConfig, StatefulEncoder
from seqlab.nn.model import Head, SeqModel
from seqlab.store.checkpoint import save_model
from seqlab.store.errors import CheckpointError
from seqlab.tasks.transfer import (
    build_encoder,
    extend_vocab,
    fine_tuning,
    load_pretrained,
    lr_mults,
    match_embeddings,
)
from seqlab.train.trainer import TrainConfig, Trainer


class LastTokenHead(Head):
    """The smallest classification head: a linear layer on the last real token."""

    kind = "test-last"

    def __init__(self, encoder, n_classes=2):
        super().__init__()
        self.n_classes = n_classes
        self.out = nn.Linear(encoder.out_size, n_classes)

    def forward(self, hidden, mask):
        last = mask.sum(1) - 1
        return self.out(hidden[torch.arange(hidden.size(0)), last])

    def loss(self, out, batch):
        return F.cross_entropy(out, batch.y)

    def n_targets(self, batch):
        return batch.y.numel()

    def eval_step(self, out, batch):
        return {"correct": int((out.argmax(-1) == batch.y).sum()), "n": batch.y.numel()}

    def reduce(self, steps, loss):
        return {"accuracy": sum(s["correct"] for s in steps) / sum(s["n"] for s in steps)}

    def config(self):
        return {"n_classes": self.n_classes}


LM_VOCAB = Vocab(list(SPECIALS) + ["one", "two", "three"])


def lm_run(tmp_path, cell="lstm", layers=2, tie=True):
    """A pretrained-looking run dir: an encoder under a tied LM-like decoder, saved as best."""
    torch.manual_seed(0)
    enc = StatefulEncoder(
        EncoderConfig(len(LM_VOCAB), hidden=8, layers=layers, cell=cell, emb_size=8)
    )
    head = LastTokenHead(enc, n_classes=len(LM_VOCAB))
    head.out = nn.Linear(8, len(LM_VOCAB))
    if tie:
        head.out.weight = enc.embedding.weight  # stored once: an alias in the checkpoint
    model = SeqModel(enc, head)
    meta = {
        "encoder": asdict(enc.config),
        "vocab": LM_VOCAB.itos,
        "head": {"kind": "test-last", "config": {"n_classes": len(LM_VOCAB)}},
    }
    save_model(tmp_path / "best", model, meta)
    return tmp_path, model


def test_match_embeddings_keeps_known_rows_and_means_new_ones():
    w = torch.arange(len(LM_VOCAB) * 2, dtype=torch.float).reshape(-1, 2)
    new = Vocab(list(SPECIALS) + ["three", "four", "one"])
    out, known = match_embeddings(w, LM_VOCAB, new)
    assert known == len(SPECIALS) + 2
    assert torch.equal(out[new.stoi["three"]], w[LM_VOCAB.stoi["three"]])
    assert torch.equal(out[new.stoi["one"]], w[LM_VOCAB.stoi["one"]])
    assert torch.equal(out[new.stoi["four"]], w.mean(0))
    assert torch.equal(out[: len(SPECIALS)], w[: len(SPECIALS)])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.sampled_from("abcdefgh"), unique=True),
    st.lists(st.sampled_from("cdefghij"), unique=True),
)
def test_match_embeddings_property(old_words, new_words):
    old, new = Vocab(["xxunk", *old_words]), Vocab(["xxunk", *new_words])
    w = torch.randn(len(old), 3)
    out, known = match_embeddings(w, old, new)
    assert out.shape == (len(new), 3)
    assert known == sum(t in old.stoi for t in new.itos)
    for i, t in enumerate(new.itos):
        expected = w[old.stoi[t]] if t in old.stoi else w.mean(0)
        assert torch.allclose(out[i], expected)


def test_extend_vocab_keeps_pretrained_ids():
    new = Vocab(list(SPECIALS) + ["four", "two"])
    v = extend_vocab(LM_VOCAB, new)
    assert v.itos[: len(LM_VOCAB)] == LM_VOCAB.itos and v.itos[len(LM_VOCAB) :] == ["four"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_build_encoder_loads_weights_and_is_stateless(tmp_path, cell):
    run, lm = lm_run(tmp_path, cell=cell)
    pre = load_pretrained(run)  # a run dir resolves to its best checkpoint
    vocab = extend_vocab(pre.vocab, Vocab(list(SPECIALS) + ["four"]))
    enc = build_encoder(vocab, pre, emb_drop=0.1)
    assert not enc.config.stateful and enc.config.emb_drop == 0.1 and enc.config.cell == cell
    assert enc.config.vocab_size == len(vocab)
    for a, b in zip(enc.rnns.parameters(), lm.encoder.rnns.parameters(), strict=True):
        assert torch.equal(a, b)
    old = lm.encoder.embedding.weight
    assert torch.equal(enc.embedding.weight[: len(LM_VOCAB)], old)
    assert torch.allclose(enc.embedding.weight[vocab.stoi["four"]], old.mean(0))
    scratch = build_encoder(vocab, pre, from_scratch=True)
    assert scratch.config == enc.config.__class__(**{**asdict(enc.config), "emb_drop": 0.0})
    assert not torch.equal(scratch.rnns[0].weight_hh_l0, lm.encoder.rnns[0].weight_hh_l0)


def test_load_pretrained_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no best.json or last.json"):
        load_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="no such run directory or checkpoint"):
        load_pretrained(tmp_path / "nothing")
    with pytest.raises(ValueError, match="needs a pretrained encoder or an EncoderConfig"):
        build_encoder(LM_VOCAB)


def test_lr_mults_ulmfit_ratio():
    m = lr_mults(4)
    assert m[-1] == 1.0
    assert all(abs(m[i + 1] / m[i] - 2.6) < 1e-9 for i in range(3))
    assert lr_mults(3, factor=1.0) == [1.0, 1.0, 1.0]


def toy_data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(8, 11, size=rng.integers(2, 6)) for _ in range(n)]
    labels = [int(s[-1] == 10) for s in seqs]
    return PaddedBatches(seqs, labels, bs=8, shuffle=True, seed=seed)


def test_gradual_unfreezing_trains_one_more_group_per_epoch(tmp_path):
    run, _ = lm_run(tmp_path)
    pre = load_pretrained(run)
    enc = build_encoder(pre.vocab, pre)
    model = SeqModel(enc, LastTokenHead(enc))
    groups = model.layer_groups()  # embedding, rnn 0, rnn 1, head
    mults, callbacks = fine_tuning(model)
    snapshots = []

    def snapshot(trainer, event, epoch):
        if event == "epoch_end":
            snapshots.append([[p.detach().clone() for p in g] for g in groups])

    data = toy_data()
    trainer = Trainer(
        model,
        data,
        data,
        TrainConfig(epochs=4, lr=1e-2, device="cpu"),
        lr_mults=mults,
        callbacks=[*callbacks, snapshot],
    )
    assert [g["max_lr"] / 1e-2 for g in trainer.opt.param_groups] == pytest.approx(mults)
    before = [[p.detach().clone() for p in g] for g in groups]
    trainer.fit()
    for epoch, after in enumerate(snapshots):
        changed = [
            any(not torch.equal(a, b) for a, b in zip(x, y, strict=True))
            for x, y in zip(before, after, strict=True)
        ]
        # epoch e trains the top e+1 groups only
        assert changed == [i >= len(groups) - 1 - epoch for i in range(len(groups))]
        before = after


def test_both_switched_off_trains_everything_at_one_lr():
    enc = StatefulEncoder(EncoderConfig(12, hidden=8, stateful=False))
    model = SeqModel(enc, LastTokenHead(enc))
    mults, callbacks = fine_tuning(model, discriminative=False, unfreeze=False)
    assert mults is None and callbacks == []
