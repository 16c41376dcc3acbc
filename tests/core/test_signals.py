"""A real SIGINT or SIGTERM stops `seqlab pretrain` at a step boundary, whether it lands in a
training step, in validation or in a save: exit 130, `last` committed, and the resumed run
ends with exactly the weights of the uninterrupted one (CPU, one thread)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from click.testing import CliRunner

import seqlab.train.trainer as train
from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors

ARGS = ["human-numbers", "--hidden", "8", "--emb-size", "8", "--layers", "1", "--bs", "64"]
ARGS += ["--bptt", "20", "--epochs", "2", "--seed", "5", "--device", "cpu"]


def pretrain(*args):
    return CliRunner().invoke(cli, ["pretrain", *map(str, args)])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "run"
    result = pretrain(*ARGS, "--out", out)
    assert result.exit_code == 0, result.output
    return load_tensors(out / "last")[0]


def assert_resume_is_exact(out, uninterrupted):
    resumed = pretrain("--resume", out)
    assert resumed.exit_code == 0, resumed.output
    again = load_tensors(out / "last")[0]
    assert again.keys() == uninterrupted.keys()
    assert all(torch.equal(again[k], uninterrupted[k]) for k in again)


def signal_at(monkeypatch, phase, nth, *signals):
    """Send this process `signals` (real ones, through the OS) the `nth` time the trainer
    enters `phase`: a training step, a validation, or a save of checkpoints."""
    seen = [0]

    def send():
        seen[0] += 1
        if seen[0] == nth:
            for sig in signals:
                os.kill(os.getpid(), sig)

    def wrap(real):
        def hooked(*args, **kwargs):
            send()
            return real(*args, **kwargs)

        return hooked

    owner, name = {
        "step": (train.Trainer, "_train_step"),
        "valid": (train.Trainer, "evaluate"),
        "save": (train, "save_checkpoints"),
    }[phase]
    monkeypatch.setattr(owner, name, wrap(getattr(owner, name)))


@pytest.mark.parametrize(
    "sig, phase, nth",
    [
        (signal.SIGINT, "step", 50),  # a step of epoch 1 (epoch 0 has 40)
        (signal.SIGTERM, "step", 1),  # the very first step
        (signal.SIGINT, "valid", 1),  # epoch 0's validation
        (signal.SIGTERM, "save", 1),  # while epoch 0's checkpoints are written
    ],
)
def test_a_signal_anywhere_stops_at_a_step_boundary_and_resume_is_exact(
    uninterrupted, tmp_path, monkeypatch, sig, phase, nth
):
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest itself runs in the background
    signal_at(monkeypatch, phase, nth, sig)
    stopped = pretrain(*ARGS, "--out", out)
    assert stopped.exit_code == 130, stopped.output
    assert f"--resume {out}" in stopped.output
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    monkeypatch.undo()
    assert_resume_is_exact(out, uninterrupted)


def test_a_second_signal_stops_at_once_and_keeps_the_last_commit(
    uninterrupted, tmp_path, monkeypatch
):
    early = tmp_path / "early"
    with monkeypatch.context() as m:
        signal_at(m, "step", 5, signal.SIGINT, signal.SIGINT)
        stopped = pretrain(*ARGS, "--out", early)
    assert stopped.exit_code == 130 and "Traceback" not in stopped.output
    assert not early.exists()  # nothing was committed: no half a run left behind

    out = tmp_path / "run"
    signal_at(monkeypatch, "step", 50, signal.SIGINT, signal.SIGINT)
    stopped = pretrain(*ARGS, "--out", out)
    assert stopped.exit_code == 130, stopped.output
    assert "Traceback" not in stopped.output and f"--resume {out}" in stopped.output
    monkeypatch.undo()
    assert_resume_is_exact(out, uninterrupted)  # from epoch 0's commit


def test_ctrl_c_from_outside_the_process(uninterrupted, tmp_path):
    """The same through a separate process, as a terminal's Ctrl-C reaches it."""
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "seqlab", "pretrain", *ARGS, "--threads", "1", "--out", str(out)]
    child = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    while not (out / "train_state.json").exists() and child.poll() is None:
        time.sleep(0.05)  # epoch 0 is committed: the signal lands in epoch 1 (or after it)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=300)
    assert child.returncode in (130, 0), stderr[-2000:]  # 0: it had just finished
    assert "Traceback" not in stderr
    assert_resume_is_exact(out, uninterrupted)


def test_ctrl_c_outside_training_exits_130_in_one_line(monkeypatch, capsys):
    """A Ctrl-C while a command reads its data (nothing to save yet) is exit 130 and one
    line, not click's 'Aborted!' with exit 1."""
    from seqlab.cli import main as cli_module

    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module.registry, "corpus", interrupted)
    with pytest.raises(SystemExit) as stop:
        cli_module.cli.main(["show-batch", "human-numbers"], prog_name="seqlab")
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip().splitlines() == ["Interrupted."]
