"""Run directories are never overwritten by accident: a non-empty --out needs --overwrite, a
run being read is never the --out, one writer at a time (run.lock), and an error before the
first checkpoint leaves no directory behind."""

import json
import os
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab.store.rundir import LOCK, RunInUse, RunLock, is_stale

TINY = ["--hidden", "8", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]
LM = ["pretrain", "human-numbers", *TINY, "--epochs", "1"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def last_line(result):
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "fwd"
    assert invoke(*LM, "--out", out).exit_code == 0
    return out


def snapshot(run):
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}


def test_a_non_empty_out_is_refused_unless_overwrite(lm, tmp_path):
    before = snapshot(lm)
    result = invoke(*LM, "--seed", "7", "--out", lm)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "--overwrite" in last_line(result) and f"--resume {lm}" in last_line(result)
    assert snapshot(lm) == before

    copy = tmp_path / "copy"
    copy.mkdir()
    for name, data in before.items():
        (copy / name).write_bytes(data)
    (copy / "notes.txt").write_text("mine")
    result = invoke(*LM, "--seed", "7", "--out", copy, "--overwrite")
    assert result.exit_code == 0, result.output
    config = json.loads((copy / "config.json").read_text())
    assert config["train"]["seed"] == 7  # the new run's files, not a mix
    assert json.loads((copy / "last.json").read_text())["generation"] == 1
    assert (copy / "notes.txt").read_text() == "mine"  # not a run's file: kept
    assert not (copy / LOCK).exists()


def test_the_run_being_read_is_never_the_out(lm, tmp_path):
    before = snapshot(lm)
    for out in (lm, lm / "inside", lm.parent):
        for extra in ([], ["--overwrite"]):
            result = invoke(
                "finetune", "tag", "human-numbers-roles", "--encoder", lm, "--out", out, *extra
            )
            assert result.exit_code == 2, (out, extra, result.output)
            assert f"would write over --encoder {lm}" in last_line(result)
    result = invoke(*LM, "--init", lm / "best", "--out", lm, "--overwrite")
    assert result.exit_code == 2 and "would write over --init" in last_line(result)
    assert snapshot(lm) == before and not (lm / "inside").exists()


def test_an_error_before_the_first_checkpoint_leaves_no_directory(lm, tmp_path, monkeypatch):
    from seqlab_classify.task import Classification

    def build_fails(self, data, s):
        raise ValueError("--lin: too large for this machine")  # a check made while building

    monkeypatch.setattr(Classification, "build", build_fails)
    out = tmp_path / "run"
    result = invoke("finetune", "classify", "human-numbers-parity", "--encoder", lm, "--out", out)
    assert result.exit_code == 2 and "--lin" in last_line(result), result.output
    assert not out.exists()


def test_a_live_lock_refuses_a_second_writer_and_a_stale_one_is_taken_over(lm, tmp_path):
    run = tmp_path / "run"
    with RunLock(run):
        with pytest.raises(RunInUse, match=f"in use by process {os.getpid()}"):
            RunLock(run).acquire()
        result = invoke("pretrain", "--resume", run)  # no config yet: refused before the lock
        assert result.exit_code == 2
    assert not (run / LOCK).exists()

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = {"pid": int(gone.stdout), "host": socket.gethostname(), "started": "earlier"}
    assert is_stale(dead)
    assert not is_stale({**dead, "host": "some-other-machine"})  # cannot be checked: held
    assert not is_stale({**dead, "pid": os.getpid()})

    resumable = tmp_path / "resumable"
    assert invoke(*LM, "--epochs", "1", "--out", resumable).exit_code == 0
    (resumable / LOCK).write_text(json.dumps({**dead, "pid": os.getpid()}))
    result = invoke("pretrain", "--resume", resumable, "--epochs", "2")
    assert result.exit_code == 2 and "in use by process" in last_line(result)
    (resumable / LOCK).write_text(json.dumps(dead))  # killed with -9: stale, taken over
    result = invoke("pretrain", "--resume", resumable, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert not (resumable / LOCK).exists()
