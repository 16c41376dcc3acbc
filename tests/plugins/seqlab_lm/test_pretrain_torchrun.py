"""`torchrun --nproc_per_node 2 -m seqlab pretrain ...`, for real: a run stopped after its
first epoch is resumed under torchrun (2 ranks, gloo, loopback) and ends with the weights of
the uninterrupted single-process run; only rank 0 prints."""

import os
import subprocess
import sys

import torch
from click.testing import CliRunner

from seqlab import Trainer
from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors

TINY = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]
# Each rank draws its own dropout masks, so only a run without dropout can equal the
# single-process run weight for weight (AR/TAR, deterministic, stay at the defaults).
NO_DROPOUT = [f"--{d}-drop" for d in ("emb", "input", "hidden", "weight", "out")]
NO_DROPOUT = [arg for flag in NO_DROPOUT for arg in (flag, "0")]


def pretrain(*args):
    return CliRunner().invoke(cli, ["pretrain", *args], catch_exceptions=False)


def test_resume_under_torchrun_matches_the_single_process_run(tmp_path, monkeypatch):
    args = ["human-numbers", *TINY, *NO_DROPOUT, "--epochs", "2", "--seed", "4"]
    assert pretrain(*args, "--out", str(tmp_path / "full")).exit_code == 0

    real_step = Trainer._train_step

    def stop_when_epoch_1_starts(self, batch):
        if self.history:  # epoch 0 is done: Ctrl-C before the first step of epoch 1
            raise KeyboardInterrupt
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "_train_step", stop_when_epoch_1_starts)
    assert pretrain(*args, "--out", str(tmp_path / "stopped")).exit_code == 130

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # loopback only
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    done = subprocess.run(
        [*torchrun, "-m", "seqlab", "pretrain", "--resume", str(tmp_path / "stopped")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("train_loss") == 1  # one epoch table: rank 0's
    assert done.stderr.count("run directory:") == 1

    full, _ = load_tensors(tmp_path / "full" / "last")
    resumed, meta = load_tensors(tmp_path / "stopped" / "last")
    assert meta["epoch"] == 2
    for name, w in full.items():
        torch.testing.assert_close(resumed[name], w, rtol=1e-4, atol=1e-5, msg=name)
