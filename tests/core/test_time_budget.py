"""What a run says about its length before a user waits (an estimate from its first batches),
the --max-minutes budget that ends it at an epoch boundary, and the epochs a pretraining run on
the user's own text gets without --epochs."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_train_extras import make_trainer

from seqlab import TrainConfig
from seqlab.train import trainer as train_module
from seqlab.train.runlog import RunLog
from seqlab_lm.api import MAX_SIZED_EPOCHS, epochs_for


def test_an_estimate_is_printed_after_the_first_timed_batches(monkeypatch, capsys):
    monkeypatch.setattr(train_module, "ESTIMATE_AFTER", 3)
    monkeypatch.setattr(train_module, "ESTIMATE_FROM_S", 0.0)
    make_trainer(epochs=2).fit()
    err = capsys.readouterr().err
    assert err.count("estimated:") == 1  # once a run, not once an epoch
    assert "per epoch" in err and "for the 2 epoch(s) to go" in err


def test_a_quiet_run_or_a_short_one_prints_no_estimate(monkeypatch, capsys):
    monkeypatch.setattr(train_module, "ESTIMATE_AFTER", 3)
    make_trainer(epochs=2).fit()  # well under ESTIMATE_FROM_S
    monkeypatch.setattr(train_module, "ESTIMATE_FROM_S", 0.0)
    make_trainer(epochs=2, log=RunLog(quiet=True)).fit()
    assert "estimated" not in capsys.readouterr().err


def test_a_spent_budget_ends_the_run_at_an_epoch_boundary_and_resume_trains_on(tmp_path, capsys):
    trainer = make_trainer(tmp_path, epochs=4, max_minutes=1e-9)
    assert len(trainer.fit()) == 1  # the first epoch always runs; the next would not fit
    err = capsys.readouterr().err
    assert "--max-minutes 1e-09: stopped after 1 of 4 epochs" in err
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 1
    again = make_trainer(tmp_path, epochs=4)  # no budget this time
    again.load_last(tmp_path)
    assert [r["epoch"] for r in again.fit()] == [0, 1, 2, 3]


def test_a_budget_that_is_not_spent_changes_nothing(tmp_path):
    assert len(make_trainer(epochs=3, max_minutes=60).fit()) == 3


def test_the_budget_must_be_positive():
    with pytest.raises(ValueError, match="max_minutes must be positive"):
        TrainConfig(max_minutes=0)


@given(st.integers(1, 10**9), st.integers(1, 10**9), st.sampled_from(["word", "char"]))
def test_a_bigger_text_never_gets_more_epochs(a, b, level):
    small, big = sorted((a, b))
    assert 1 <= epochs_for(big, level) <= epochs_for(small, level) <= MAX_SIZED_EPOCHS


def test_the_sized_epochs_are_the_ones_measured_on_english_text():
    assert epochs_for(4_926_255, "char") == 3  # its training characters (docs/char-lm.md)
    assert epochs_for(1_100_000, "word") == 3
    assert epochs_for(50_000, "word") == MAX_SIZED_EPOCHS  # a small text: the word default


def test_pretrain_on_text_files_sizes_its_epochs_and_keeps_the_given_ones(tmp_path):
    from click.testing import CliRunner

    from seqlab.cli.main import cli

    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat.\n" * 25_000)  # 600k characters
    tiny = ["--level", "char", "--hidden", "8", "--emb-size", "4", "--cache-dir", tmp_path / "c"]
    # train is the text less its valid tail (5-10%): 26 epochs of the rule, not char's 3
    sized = {epochs_for(n, "char") for n in range(540_000, 600_001, 1000)}
    for extra, epochs in (([], sized), (["--epochs", "7"], {7})):
        out = tmp_path / f"run{len(extra)}"
        args = ["pretrain", text, *tiny, *extra, "--max-minutes", "1e-9", "--out", out, "-q"]
        r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert json.loads((out / "config.json").read_text())["train"]["epochs"] in epochs
    assert sized == {25, 26, 27, 28}
