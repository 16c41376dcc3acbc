"""The fine-tuning skeleton's resume: Ctrl-C inside an epoch, then `finetune TASK --resume RUN`
ends with exactly the weights of an uninterrupted run, for every task (as pretrain's does)."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from seqlab import Trainer
from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors

TINY_LM = ["--epochs", "1", "--layers", "1", "--hidden", "8", "--emb-size", "8", "--bs", "16"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "fwd"
    assert (
        invoke("pretrain", "human-numbers", *TINY_LM, "--bptt", "20", "--out", out).exit_code == 0
    )
    return out


def task_args(task, lm):
    if task == "tag":
        return ["tag", "human-numbers-roles", "--encoder", lm, "--epochs", "2", "--bs", "16"]
    return [
        "classify",
        "human-numbers-parity",
        "--from-scratch",
        *("--hidden", "8", "--emb-size", "8", "--layers", "1", "--lin", "8"),
        *("--epochs", "2", "--bs", "32"),
    ]


@pytest.mark.parametrize("task", ["tag", "classify"])
def test_ctrl_c_then_resume_matches_an_uninterrupted_run(task, lm, tmp_path, monkeypatch):
    args = ["finetune", *task_args(task, lm), "--seed", "3"]
    assert invoke(*args, "--out", tmp_path / "full").exit_code == 0
    n_steps = json.loads((tmp_path / "full" / "train_state.json").read_text())["step"]
    assert n_steps == 0  # a finished run stands at the start of the next epoch

    real_step, calls = Trainer._train_step, []

    def ctrl_c_in_epoch_two(self, batch):
        calls.append(1)
        assert self.epoch_lens[1] >= 2  # so the stop falls inside epoch two
        if len(calls) == self.epoch_lens[0] + 2:
            raise KeyboardInterrupt
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "_train_step", ctrl_c_in_epoch_two)
    stopped = invoke(*args, "--out", tmp_path / "stopped")
    assert stopped.exit_code == 130
    assert f"seqlab finetune {task} --resume {tmp_path / 'stopped'}" in stopped.output
    assert not (tmp_path / "stopped" / "scores.json").exists()
    monkeypatch.setattr(Trainer, "_train_step", real_step)

    resumed = invoke("finetune", task, "--resume", tmp_path / "stopped")
    assert resumed.exit_code == 0, resumed.output
    full, _ = load_tensors(tmp_path / "full" / "last")
    again, _ = load_tensors(tmp_path / "stopped" / "last")
    assert full.keys() == again.keys()
    assert all(torch.equal(full[k], again[k]) for k in full)
    scores = [json.loads((tmp_path / r / "scores.json").read_text()) for r in ("full", "stopped")]
    assert scores[0]["metrics"] == scores[1]["metrics"]


@pytest.mark.parametrize("task", ["tag", "classify"])
def test_resume_refuses_other_settings_and_other_tasks(task, lm, tmp_path):
    run = tmp_path / "run"
    assert invoke("finetune", *task_args(task, lm), "--out", run).exit_code == 0
    r = CliRunner().invoke(cli, ["finetune", task, "--resume", str(run), "--wd", "0.1"])
    assert r.exit_code == 2 and "drop --wd" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["finetune", task, "--resume", str(run), "--overwrite"])
    assert r.exit_code == 2 and "drop --overwrite" in r.output
    r = CliRunner().invoke(cli, ["finetune", task, "--resume", str(run), "--epochs", "1"])
    assert r.exit_code == 2 and "has 2 epochs" in r.output
    other = "classify" if task == "tag" else "tag"
    r = CliRunner().invoke(cli, ["finetune", other, "--resume", str(run)])
    assert r.exit_code == 2 and f"a run of task {task!r}" in r.output
    r = CliRunner().invoke(cli, ["finetune", task, "--resume", str(lm)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_resume_with_more_epochs_trains_on(lm, tmp_path):
    task = "classify"  # the skeleton's resume, the same for every task
    run = tmp_path / "run"
    assert invoke("finetune", *task_args(task, lm), "--out", run).exit_code == 0
    r = invoke("finetune", task, "--resume", run, "--epochs", "3")
    assert r.exit_code == 0, r.output
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 3
    assert json.loads((run / "config.json").read_text())["settings"]["epochs"] == 3
    assert json.loads((run / "train_state.json").read_text())["cycles"] == [2, 1]
    assert invoke("finetune", task, "--resume", run).exit_code == 0  # nothing left to train
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 3
