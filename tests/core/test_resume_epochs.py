"""`--resume RUN --epochs N` trains on: the epochs beyond the run's own are a new one-cycle
schedule (warm-up and annealing again, as a second fit_one_cycle in fastai), recorded in the
train state, so a stop inside the extension resumes exactly too."""

import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from test_train import StopAt, make_trainer, weights

from seqlab import Interrupted
from seqlab.cli.main import cli
from seqlab.train.trainer import extend_cycles


def lr_per_step(trainer):
    lrs = []
    trainer.callbacks.append(
        lambda t, event, n: lrs.append(t.opt.param_groups[0]["lr"]) if event == "step_end" else 0
    )
    return lrs


def test_the_extra_epochs_are_a_new_cycle_and_resume_inside_it_is_exact(tmp_path):
    make_trainer(tmp_path / "a", epochs=2).fit()
    shutil.copytree(tmp_path / "a", tmp_path / "b")

    longer = make_trainer(tmp_path / "a", epochs=4)
    longer.load_last(tmp_path / "a")
    lrs = lr_per_step(longer)
    history = longer.fit()
    assert [r["epoch"] for r in history] == [0, 1, 2, 3] and longer.cycles == [2, 2]
    peak = longer.config.lr
    assert lrs[0] < peak / 10  # warm-up again from the start of the new cycle
    assert max(lrs) == pytest.approx(peak, rel=0.01)  # up to the peak again
    assert lrs[-1] < peak / 1000  # and annealed to the end

    stopped = make_trainer(tmp_path / "b", epochs=4, callbacks=[StopAt(longer.epoch_lens[2] + 3)])
    stopped.load_last(tmp_path / "b")
    with pytest.raises(Interrupted):
        stopped.fit()
    resumed = make_trainer(tmp_path / "b", epochs=4)  # the cycles come from the train state
    resumed.load_last(tmp_path / "b")
    assert resumed.cycles == [2, 2] and (resumed.epoch, resumed.step) == (3, 3)
    resumed.fit()
    expected, got = weights(longer), weights(resumed)
    assert all(torch.equal(expected[k], got[k]) for k in expected)


def test_cycles_extend_and_never_shrink():
    assert extend_cycles([2], 2) == [2]
    assert extend_cycles([2], 5) == [2, 3]
    assert extend_cycles([2, 3], 6) == [2, 3, 1]
    with pytest.raises(ValueError, match="has 5 epochs"):
        extend_cycles([2, 3], 4)


def test_pretrain_resume_with_more_epochs_trains_on_and_other_flags_are_refused(tmp_path):
    run = tmp_path / "run"
    tiny = ["--hidden", "8", "--emb-size", "8", "--layers", "1", "--bs", "64", "--bptt", "20"]

    def pretrain(*args):
        return CliRunner().invoke(cli, ["pretrain", *map(str, args)])

    assert pretrain("human-numbers", *tiny, "--epochs", "1", "--out", run).exit_code == 0
    for extra, word in [(["--hidden", "16"], "drop --hidden"), (["--epochs", "0"], "--epochs")]:
        result = pretrain("--resume", run, *extra)
        assert result.exit_code == 2 and word in result.output, result.output
    result = pretrain("--resume", run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 2
    assert json.loads((run / "config.json").read_text())["train"]["epochs"] == 2
    assert json.loads((run / "train_state.json").read_text())["cycles"] == [1, 1]
