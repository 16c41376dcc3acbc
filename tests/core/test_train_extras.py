"""The Trainer's conveniences: early stopping, mixed precision, TensorBoard; and the process
ones: thread count and the user's umask for every file a run writes."""

import json
import os

import numpy as np
import pytest
import torch
from conftest import TinyLMHead
from hypothesis import given
from hypothesis import strategies as st

from seqlab import BPTTStream, EncoderConfig, SeqModel, StatefulEncoder, TrainConfig, Trainer
from seqlab.data.files import atomic_write
from seqlab.train import trainer as train_module
from seqlab.train.runlog import RunLog
from seqlab.train.threads import set_threads
from seqlab.train.trainer import autocast, epochs_since_best, seed_everything

STREAM = np.tile(np.arange(2, 12, dtype=np.uint16), 50)


def make_trainer(run_dir=None, log=None, **config):
    seed_everything(0)
    enc = StatefulEncoder(EncoderConfig(vocab_size=12, hidden=16, layers=1, cell="gru"))
    model = SeqModel(enc, TinyLMHead(enc))
    train = BPTTStream([STREAM[:400]], bs=4, bptt=10, shuffle=True, seed=0)
    valid = BPTTStream([STREAM[400:]], bs=4, bptt=10)
    settings = {"epochs": 2, "lr": 1e-2, "seed": 0, "device": "cpu", **config}
    return Trainer(model, train, valid, TrainConfig(**settings), run_dir=run_dir, log=log)


# -- early stopping ----------------------------------------------------------------------------


@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=12))
def test_epochs_since_best_counts_epochs_after_the_first_best(values):
    rows = [{"valid_loss": v, "accuracy": -v} for v in values]
    for key in ("valid_loss", "accuracy"):  # a loss is lowest-best, a metric highest-best
        stale = epochs_since_best(rows, key)
        best_at = len(values) - 1 - stale
        assert values[best_at] == min(values)
        assert all(v > min(values) for v in values[:best_at])


def scripted_losses(trainer, losses):
    """Make evaluate report these valid losses, one per epoch."""
    it = iter(losses)
    trainer.evaluate = lambda dl=None: {"valid_loss": next(it), "accuracy": 0.5}


def test_patience_stops_the_run_and_keeps_the_best_checkpoint(tmp_path, capsys):
    trainer = make_trainer(tmp_path, epochs=8, patience=2)
    scripted_losses(trainer, [3.0, 2.0, 2.5, 2.0, 2.7, 1.0, 1.0, 1.0])
    history = trainer.fit()
    # epoch 1 is the best; epochs 2 and 3 do not better it (a tie is no improvement)
    assert [r["valid_loss"] for r in history] == [3.0, 2.0, 2.5, 2.0]
    err = capsys.readouterr().err
    assert err.count("stopped early") == 1 and "valid_loss has not improved for 2 epochs" in err
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["metrics"]["valid_loss"] == 2.0
    assert (tmp_path / "curves.png").is_file()
    # a resumed run that had stopped early stops again at once, training nothing more
    again = make_trainer(tmp_path, epochs=8, patience=2)
    again.load_last(tmp_path)
    assert len(again.fit()) == 4


def test_without_patience_every_epoch_runs(tmp_path):
    trainer = make_trainer(epochs=4)
    scripted_losses(trainer, [3.0, 4.0, 5.0, 6.0])
    assert len(trainer.fit()) == 4


def test_patience_must_be_positive():
    with pytest.raises(ValueError, match="patience must be at least 1"):
        TrainConfig(patience=0)


# -- mixed precision ---------------------------------------------------------------------------


def test_amp_on_a_cpu_is_a_note_and_trains_exactly_as_without(capsys):
    plain = make_trainer(epochs=1)
    plain.fit()
    amp = make_trainer(epochs=1, amp=True)
    amp.fit()
    assert "amp autocasts on CUDA only" in capsys.readouterr().err
    amp_weights = amp.model.state_dict()
    for name, a in plain.model.state_dict().items():
        b = amp_weights[name]
        assert torch.equal(a, b), name


def test_amp_autocasts_the_forward_pass_to_bfloat16(monkeypatch):
    """The CUDA code path, run on the CPU (which has bfloat16 autocast too)."""
    monkeypatch.setattr(train_module, "AMP_DEVICES", ("cpu",))
    trainer = make_trainer(epochs=1, amp=True, log=RunLog(quiet=True))
    dtypes = []
    trainer.model.head.decoder.register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    history = trainer.fit()
    assert set(dtypes) == {torch.bfloat16}  # training steps and evaluation alike
    assert np.isfinite(history[-1]["train_loss"]) and np.isfinite(history[-1]["valid_loss"])
    # weights and their gradients stay float32: autocast only casts what the ops compute
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    with autocast(torch.device("cpu"), amp=False):
        assert not torch.is_autocast_enabled("cpu")


# -- TensorBoard -----------------------------------------------------------------------------


def test_tensorboard_logs_step_loss_and_lr_and_the_epoch_table(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer = make_trainer(tmp_path, epochs=2, tensorboard=True, log=RunLog(quiet=True))
    history = trainer.fit()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    steps = sum(trainer.epoch_lens)
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, steps + 1))
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(trainer.batch_losses)
    assert len(events.Scalars("train/lr")) == steps
    valid = events.Scalars("epoch/valid_loss")
    assert [e.step for e in valid] == [1, 2]
    assert [e.value for e in valid] == pytest.approx([r["valid_loss"] for r in history])
    assert "epoch/accuracy" in events.Tags()["scalars"]


# -- threads and file modes ----------------------------------------------------------------


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_come_from_the_option_else_the_environment(monkeypatch, restore_threads):
    monkeypatch.setenv("SEQLAB_THREADS", "2")
    assert set_threads() == 2 == torch.get_num_threads()
    assert set_threads(1) == 1  # the option wins
    monkeypatch.setenv("SEQLAB_THREADS", "none")
    with pytest.raises(ValueError, match="SEQLAB_THREADS='none': give a number of threads"):
        set_threads()
    monkeypatch.delenv("SEQLAB_THREADS")
    assert set_threads() == 1  # neither: torch's count is left as it is


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_run_files_and_the_token_cache_follow_the_umask(tmp_path, umask_027):
    from seqlab.data import tokenize

    atomic_write(tmp_path / "metrics.csv", "epoch\n")
    assert (tmp_path / "metrics.csv").stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600
    (tmp_path / "a.txt").write_text("one two three\nfour five\n")
    (tmp_path / "b.txt").write_text("one two\n")
    cache = tokenize.prepare([tmp_path / "a.txt"], [tmp_path / "b.txt"], cache_root=tmp_path / "c")
    assert cache.stat().st_mode & 0o777 == 0o750  # not mkdtemp's 0700
    for path in cache.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0o040 if path.is_file() else 0o050, path


# -- the same conveniences from Python: settings fields ----------------------------------------


def test_settings_carry_patience_amp_and_tensorboard_to_the_trainer(monkeypatch):
    from seqlab.settings import SettingError
    from seqlab.tasks.finetune import FinetuneSettings
    from seqlab.train import tensorboard
    from seqlab_lm.settings import PretrainSettings

    lm = PretrainSettings(patience=2, amp=True, tensorboard=True).to_config("c", 10, 0)["train"]
    assert (lm["patience"], lm["amp"], lm["tensorboard"]) == (2, True, True)
    tuned = FinetuneSettings(patience=3, amp=True).train_config()
    assert (tuned.patience, tuned.amp, tuned.tensorboard) == (3, True, False)
    assert PretrainSettings().patience is None and FinetuneSettings().patience is None
    with pytest.raises(SettingError, match="patience must be at least 1"):
        FinetuneSettings(patience=0)
    monkeypatch.setattr(tensorboard, "available", lambda: False)
    for cls in (PretrainSettings, FinetuneSettings):
        with pytest.raises(SettingError, match=r"pip install 'seqlab\[tensorboard\]'"):
            cls(tensorboard=True)
