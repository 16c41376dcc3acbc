"""The conveniences every training command shares, from the command line: --lr-find, --quiet,
--threads, --amp, --patience, --tensorboard; and the tagger's confusion matrix."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab.train import tensorboard

EXAMPLES = Path(__file__).parents[2] / "examples"
TINY_LM = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]
# small batches: a sweep is 100 steps whatever their size
TAG = ["--train", EXAMPLES / "train.conllu", "--valid", EXAMPLES / "dev.conllu", "--epochs", "1"]
TAG += ["--bs", "8"]
CLASSIFY = [
    "--train",
    EXAMPLES / "train.csv",
    "--valid",
    EXAMPLES / "valid.csv",
    "--from-scratch",
    "--hidden",
    "16",
    "--emb-size",
    "8",
    "--epochs",
    "1",
    "--bs",
    "8",
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    "command",
    [
        ["pretrain", "human-numbers", *TINY_LM],
        ["finetune", "tag", *TAG],
        ["finetune", "classify", *CLASSIFY],
    ],
    ids=["pretrain", "tag", "classify"],
)
def test_lr_find_prints_a_rate_writes_its_plot_and_nothing_else(command, tmp_path):
    out = tmp_path / "find"
    result = run(*command, "--lr-find", "--out", out)
    assert result.exit_code == 0, result.output
    summary = result.stdout.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith("suggested --lr ")
    assert "steepest descent" in summary[0] or "minimum / 10" in summary[0]
    assert sorted(p.name for p in out.iterdir()) == ["lr_find.csv", "lr_find.png"]
    assert f"wrote {out / 'lr_find.csv'}" in result.stderr  # status, not summary
    rate = float(summary[0].split()[2])
    swept = [float(line.split(",")[0]) for line in (out / "lr_find.csv").read_text().split()[1:]]
    # a rate of the sweep (steepest descent), or its lowest-loss rate / 10
    assert swept[0] / 10 <= rate <= swept[-1] and len(swept) > 50


def test_lr_find_does_not_resume(tmp_path):
    result = run("finetune", "tag", "--resume", tmp_path, "--lr-find")
    assert result.exit_code == 2 and "--lr-find starts from the settings given" in result.stderr


def test_quiet_pretrain_prints_only_its_summary(tmp_path):
    out = tmp_path / "run"
    result = run("pretrain", "human-numbers", *TINY_LM, "--epochs", "1", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("best valid_loss ") and len(result.stdout.splitlines()) == 1
    assert (out / "metrics.csv").is_file() and (out / "curves.png").is_file()
    # which checkpoint each command reads: they differ, and a spike can make `best`
    assert "(last epoch " in result.stdout and "`seqlab predict` read it" in result.stdout
    assert "last (`evaluate` and `generate` do" in result.stdout


def test_quiet_tagger_prints_its_report_and_draws_its_confusion_matrix(tmp_path):
    out = tmp_path / "pos"
    result = run("finetune", "tag", *TAG, "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "train_loss" not in result.stdout  # no epoch table
    assert "per tag (tokens)" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("valid (best checkpoint, 20 examples)")
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_amp_on_a_cpu_says_so_and_patience_reaches_the_run_config(tmp_path):
    out = tmp_path / "run"
    result = run(
        "pretrain",
        "human-numbers",
        *TINY_LM,
        "--epochs",
        "1",
        "--amp",
        "--patience",
        "3",
        "--device",
        "cpu",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "note: amp autocasts on CUDA only; training in float32 on cpu" in result.stderr
    train = json.loads((out / "config.json").read_text())["train"]
    assert train["patience"] == 3 and train["amp"] is True and train["tensorboard"] is False


def test_a_missing_tensorboard_package_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "available", lambda: False)
    for command in (["pretrain", "human-numbers"], ["finetune", "tag", *TAG]):
        result = run(*command, "--tensorboard", "--out", tmp_path / "run")
        assert result.exit_code == 2
        assert result.stderr == (
            "Error: --tensorboard needs the tensorboard package: "
            "pip install 'seqlab[tensorboard]'\n"
        )
        assert not (tmp_path / "run").exists()


def test_threads_must_be_a_count(monkeypatch):
    result = run("predict", "runs/x", "--text", "one", "--threads", "0")
    assert result.exit_code == 2 and "--threads" in result.stderr
    monkeypatch.setenv("SEQLAB_THREADS", "many")
    result = run("predict", "runs/x", "--text", "one")
    assert result.exit_code == 2
    assert result.stderr == "Error: SEQLAB_THREADS='many': give a number of threads, at least 1\n"
