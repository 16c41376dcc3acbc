import csv

import numpy as np
import pytest
import torch
from conftest import TinyLMHead

from seqlab import (
    BPTTStream,
    EncoderConfig,
    Interrupted,
    SeqModel,
    StatefulEncoder,
    TrainConfig,
    Trainer,
    seed_everything,
)

# A periodic stream: easy to learn, so the loss must fall.
STREAM = np.tile(np.arange(2, 12, dtype=np.uint16), 300)


def make_trainer(run_dir=None, epochs=2, callbacks=(), seed=0):
    seed_everything(seed)
    enc = StatefulEncoder(
        EncoderConfig(vocab_size=12, hidden=16, layers=2, cell="lstm", weight_drop=0.2)
    )
    model = SeqModel(enc, TinyLMHead(enc))
    train = BPTTStream(
        [STREAM[:2000], STREAM[2000:2600]], bs=8, bptt=12, random_bptt=True, shuffle=True, seed=seed
    )
    valid = BPTTStream(STREAM[:400], bs=4, bptt=12)
    config = TrainConfig(epochs=epochs, lr=1e-2, seed=seed, device="cpu")
    return Trainer(model, train, valid, config, run_dir=run_dir, callbacks=list(callbacks))


def weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_loss_falls_and_metrics_are_recorded(tmp_path):
    trainer = make_trainer(tmp_path, epochs=3)
    before = trainer.evaluate()
    history = trainer.fit()
    assert history[-1]["valid_loss"] < before["valid_loss"] * 0.7
    assert history[-1]["accuracy"] > before["accuracy"]
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["epoch", "train_loss", "valid_loss", "accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("best", "last", "train_state"):
        assert (tmp_path / f"{name}.safetensors").is_file() and (
            tmp_path / f"{name}.json"
        ).is_file()


def test_state_is_reset_at_every_epoch_and_evaluation():
    trainer = make_trainer()
    resets = []
    original = trainer.model.reset
    trainer.model.reset = lambda: (resets.append(trainer.model.training), original())
    trainer.fit()
    assert resets == [True, False, True, False]  # train epoch, evaluation, twice


def test_evaluation_does_not_depend_on_the_state_before_it():
    trainer = make_trainer()
    first = trainer.evaluate()
    trainer.model.train()
    trainer.model(torch.randint(0, 12, (4, 9)))  # leaves some state behind
    assert trainer.evaluate() == first


class StopAt:
    """Raise KeyboardInterrupt (as Ctrl-C does) after a given global step."""

    def __init__(self, step):
        self.step, self.seen = step, 0

    def __call__(self, trainer, event, n):
        if event == "step_end":
            self.seen += 1
            if self.seen == self.step:
                raise KeyboardInterrupt


@pytest.mark.parametrize("stop_after", [5, 1000])  # inside epoch 0; never (see below)
def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path, stop_after):
    reference = make_trainer(epochs=2)
    reference.fit()
    steps_epoch0 = reference.epoch_lens[0]
    stop = stop_after if stop_after < 1000 else steps_epoch0  # 1000: exactly at the epoch's end
    interrupted = make_trainer(tmp_path, epochs=2, callbacks=[StopAt(stop)])
    with pytest.raises(Interrupted):
        interrupted.fit()
    resumed = make_trainer(tmp_path, epochs=2)
    resumed.load_last(tmp_path)
    assert (resumed.epoch, resumed.step) == (0, stop)
    history = resumed.fit()
    expected, got = weights(reference), weights(resumed)
    for k in expected:
        assert torch.equal(expected[k], got[k]), k
    assert [round(r["valid_loss"], 6) for r in history] == [
        round(r["valid_loss"], 6) for r in reference.history
    ]


def test_interrupt_saves_last_atomically_and_leaves_no_temp_files(tmp_path):
    trainer = make_trainer(tmp_path, callbacks=[StopAt(3)])
    with pytest.raises(Interrupted, match="--resume"):
        trainer.fit()
    names = {p.name for p in tmp_path.iterdir()}
    assert {"last.safetensors", "last.json", "train_state.safetensors", "train_state.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=0)
