"""The learning-rate finder: the sweep, its stop, its suggestion, and that it leaves the model
as it found it."""

import math

import numpy as np
import torch
from conftest import TinyLMHead
from hypothesis import given
from hypothesis import strategies as st

from seqlab import BPTTStream, EncoderConfig, SeqModel, StatefulEncoder, TrainConfig, Trainer
from seqlab.train.lr_find import MIN_DESCENT, SKIP_START, lr_find, steepest_descent, suggest
from seqlab.train.runlog import RunLog
from seqlab.train.trainer import seed_everything

STREAM = np.tile(np.arange(2, 12, dtype=np.uint16), 40)


def make_trainer():
    seed_everything(0)
    enc = StatefulEncoder(EncoderConfig(vocab_size=12, hidden=16, layers=1, cell="gru"))
    model = SeqModel(enc, TinyLMHead(enc))
    train = BPTTStream([STREAM], bs=4, bptt=10, shuffle=True, seed=0)  # 9 batches an epoch
    config = TrainConfig(epochs=1, lr=1e-2, device="cpu")
    return Trainer(model, train, [], config, log=RunLog(quiet=True))


def test_the_sweep_grows_exponentially_and_restores_the_weights():
    trainer = make_trainer()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    found = lr_find(trainer, steps=30)
    # the loader is repeated to reach more steps than one epoch has
    assert 9 < len(found.lrs) <= 30
    assert found.lrs[0] == 1e-7
    ratios = np.diff(np.log(found.lrs))
    assert np.allclose(ratios, math.log(1e8) / 29)  # 1e-7 to 10 in 30 steps
    assert found.lrs[0] < found.suggestion < found.lrs[-1]
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_the_sweep_stops_once_the_smoothed_loss_passes_4x_its_minimum():
    trainer = make_trainer()
    losses = iter([2.0] * 10 + [1.0] * 10 + [50.0] * 80)
    trainer._train_step = lambda batch: (next(losses), 1)
    found = lr_find(trainer)
    assert 20 < len(found.lrs) < 30
    assert found.smoothed[-1] > 4 * min(found.smoothed) >= found.smoothed[-2]
    assert found.losses[:20] == [2.0] * 10 + [1.0] * 10


def test_the_result_is_written_as_csv_and_png(tmp_path):
    found = lr_find(make_trainer(), steps=20)
    paths = found.save(tmp_path)
    assert [p.name for p in paths] == ["lr_find.csv", "lr_find.png"]
    rows = (tmp_path / "lr_find.csv").read_text().splitlines()
    assert rows[0] == "lr,loss,smoothed_loss" and len(rows) == len(found.lrs) + 1
    assert (tmp_path / "lr_find.png").read_bytes()[:4] == b"\x89PNG"
    assert f"suggested --lr {found.suggestion:.1e} ({found.method}" in found.summary()


@given(st.lists(st.floats(0.1, 10), min_size=2, max_size=60), st.integers(0, 59))
def test_the_suggestion_is_the_minimum_over_10(losses, low):
    low = min(low, len(losses) - 1)
    losses[low] = 0.01  # the minimum
    losses[-1] = math.inf if low != len(losses) - 1 else losses[-1]  # a diverged last step
    lrs = [10.0 ** (i / 4 - 7) for i in range(len(losses))]
    assert suggest(lrs, losses) == (lrs[low] / 10, "minimum / 10")


@given(
    st.lists(st.floats(0.1, 10), min_size=SKIP_START + MIN_DESCENT + 1, max_size=60),
    st.integers(SKIP_START + MIN_DESCENT, 59),
)
def test_the_steepest_descent_is_reported_between_the_noisy_start_and_the_minimum(losses, low):
    low = min(low, len(losses) - 1)
    losses[low] = 0.01  # the minimum
    lrs = [10.0 ** (i / 4 - 7) for i in range(len(losses))]
    rate = steepest_descent(lrs, losses)
    part = slice(SKIP_START, low + 1)  # after the noisy start, up to the minimum
    slope = np.gradient(np.array(losses[part]), np.log10(lrs[part]))
    assert rate == lrs[SKIP_START + int(np.argmin(slope))]
    assert lrs[SKIP_START] <= rate <= lrs[low]


def test_a_descent_too_short_for_a_slope_has_no_steepest_point():
    lrs = [10.0 ** (i / 4 - 7) for i in range(SKIP_START + 8)]
    losses = [2.0] * len(lrs)
    losses[SKIP_START + 2] = 1.0  # the minimum, 2 steps after the noisy start
    assert steepest_descent(lrs, losses) is None
