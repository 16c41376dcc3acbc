"""The faults an outside probe found (issue 23), each as the user met it: an option with no
bound, a command that wrote over the user's files, silently wrong data, a misleading message,
advice that went round in a circle. Tiny runs, so the whole file takes seconds."""

from __future__ import annotations

import errno
import json
import socket
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from seqlab.cli.main import cli

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from faults.harness import fed_fifo  # noqa: E402  (the fault benchmark's named pipe)

SCRATCH = ["--from-scratch", "--hidden", "8", "--emb-size", "8", "--layers", "1", "--lin", "8"]


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def clf(tmp_path_factory):
    """A classifier trained from scratch for one epoch (a run directory to predict with)."""
    root = tmp_path_factory.mktemp("probe")
    out = root / "clf"
    args = ["finetune", "classify", "human-numbers-parity", *SCRATCH, "--epochs", "1"]
    result = invoke(*args, "--bs", "64", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


# -- 1. an option bounded by the machine ----------------------------------------------------


def test_threads_beyond_a_few_per_core_are_refused_not_a_crash(clf, monkeypatch, restore_threads):
    from seqlab.train.threads import max_threads, set_threads

    result = invoke("predict", clf, "--text", "one", "--threads", 100_000)
    assert result.exit_code == 2 and "--threads 100000: at most" in result.output
    monkeypatch.setenv("SEQLAB_THREADS", "100000")
    result = invoke("predict", clf, "--text", "one")
    assert result.exit_code == 2 and "SEQLAB_THREADS=100000: at most" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(ValueError, match="per core"):
        set_threads(max_threads() + 1)
    assert set_threads(max_threads()) >= 1  # the bound itself is allowed


# -- 2. long inputs: bounded, and seen to move ----------------------------------------------


def test_a_sentence_over_max_len_is_refused_naming_file_line_and_option(tmp_path):
    train = tmp_path / "train.conll"
    train.write_text("a\tO\nb\tB-X\n\n" + "w\tO\n" * 1001 + "\nc\tO\n")
    args = ["finetune", "tag", "--train", train, "--valid", train, "--epochs", "1"]
    result = invoke(*args, "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert f"{train}:4: a sentence of 1,001 words; the most is 1,000 (--max-len N" in result.output
    assert not (tmp_path / "run").exists()


def test_an_epoch_off_a_terminal_prints_a_progress_line_now_and_then(capsys, monkeypatch):
    from seqlab.train import runlog

    advance = runlog._progress_lines(epoch=2, total=3, done=0, every=0.0)
    for loss in (1.5, 1.25, 1.0):
        advance(loss)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("epoch 2: batch 1/3, loss 1.500") and len(lines) == 3
    quiet = runlog._progress_lines(epoch=0, total=3, done=0)  # an epoch under 10 s: nothing
    quiet(1.0)
    assert capsys.readouterr().err == ""


# -- 3. never write over what is not ours ---------------------------------------------------


def test_predict_out_never_replaces_the_input_a_run_file_or_a_file_unasked(clf, tmp_path):
    texts = tmp_path / "in.txt"
    texts.write_text("one\ntwo\n")
    result = invoke("predict", clf, texts, "--out", texts, "--overwrite")
    assert result.exit_code == 2 and "which this command reads" in result.output
    assert texts.read_text() == "one\ntwo\n"
    config = (clf / "config.json").read_text()
    result = invoke("predict", clf, texts, "--out", clf / "config.json", "--overwrite")
    assert result.exit_code == 2 and (clf / "config.json").read_text() == config
    mine = tmp_path / "mine.tsv"
    mine.write_text("my notes\n")
    result = invoke("predict", clf, texts, "--out", mine)
    assert result.exit_code == 2 and "exists; replace it with --overwrite" in result.output
    assert mine.read_text() == "my notes\n"
    assert invoke("predict", clf, texts, "--out", mine, "--overwrite").exit_code == 0
    assert len(mine.read_text().splitlines()) == 2


def test_predict_out_inside_another_run_is_refused(clf, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "checkpoints.json").write_text("{}")
    result = invoke("predict", clf, "--text", "one", "--out", other / "p.tsv", "--overwrite")
    assert result.exit_code == 2 and "inside the run directory" in result.output
    assert not (other / "p.tsv").exists()


def test_export_fills_only_a_new_or_empty_directory_unless_overwrite(tmp_path):
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "train.txt").write_text("my own train.txt\n")
    result = invoke("export", "human-numbers", mine)
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert (mine / "train.txt").read_text() == "my own train.txt\n"
    assert invoke("export", "human-numbers", mine, "--overwrite").exit_code == 0
    assert (mine / "train.txt").read_text().startswith("one\n")
    assert invoke("export", "human-numbers", tmp_path / "new").exit_code == 0


def test_export_model_replaces_an_earlier_export_only_with_overwrite(clf, tmp_path):
    model = tmp_path / "model"
    assert invoke("export-model", clf, model).exit_code == 0
    before = load_file(model / "model.safetensors")
    result = invoke("export-model", clf, model)
    assert result.exit_code == 2 and "replace the earlier export with --overwrite" in result.output
    assert invoke("export-model", clf, model, "--overwrite").exit_code == 0
    after = load_file(model / "model.safetensors")
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in after)
    result = invoke("export-model", clf, clf / "model", "--overwrite")
    assert result.exit_code == 2 and "which this command reads" in result.output
    assert not (clf / "model").exists()


# -- 5. messages that say what is wrong ------------------------------------------------------


def test_a_directory_as_input_is_named_as_such(clf, tmp_path):
    result = invoke("predict", clf, tmp_path)
    assert result.exit_code == 2 and "a directory; give a file" in result.output


def test_a_named_pipe_is_read_like_a_file(clf, tmp_path):
    with fed_fifo(tmp_path / "texts", "one\ntwo\n") as fifo:
        result = invoke("predict", clf, fifo)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_a_symlink_loop_is_called_a_loop(clf, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = invoke("predict", clf, tmp_path / "a")
    assert result.exit_code == 2 and "a loop of symbolic links" in result.output


def test_empty_stdin_says_there_is_nothing_to_predict(clf):
    result = invoke("predict", clf, "-", input="")
    assert result.exit_code == 2 and "<stdin>: empty, nothing to predict" in result.output


def test_a_missing_or_unwritable_out_folder_is_named_not_a_hidden_temp_file(
    clf, tmp_path, monkeypatch
):
    result = invoke("predict", clf, "--text", "one", "--out", tmp_path / "nope" / "p.tsv")
    assert result.exit_code == 2 and "the folder" in result.output and ".tmp" not in result.output

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".p.tsv.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # the disk turned read-only mid-way
    result = invoke("predict", clf, "--text", "one", "--out", tmp_path / "p.tsv")
    assert result.exit_code == 2
    assert f"{tmp_path / 'p.tsv'}: Read-only file system" in result.output
    assert ".tmp" not in result.output and "[Errno" not in result.output


def test_a_lock_without_its_start_time_names_no_none(tmp_path):
    from seqlab.store.rundir import RunInUse, RunLock

    (tmp_path / "run.lock").write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    with pytest.raises(RunInUse) as e:
        RunLock(tmp_path).acquire()
    assert "None" not in str(e.value) and "process 1 on elsewhere" in str(e.value)
    (tmp_path / "run.lock").write_text(json.dumps({"host": socket.gethostname() + "-other"}))
    with pytest.raises(RunInUse, match="in use by another process on"):
        RunLock(tmp_path).acquire()


# -- 6. advice that leads somewhere ----------------------------------------------------------


def test_a_run_killed_before_its_first_checkpoint_points_to_overwrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()  # what a SIGKILL during data reading leaves
    (run / "config.json").write_text(json.dumps({"task": "classify", "settings": {}}))
    (run / "run.lock").write_text(json.dumps({"pid": 2**22 + 1, "host": socket.gethostname()}))
    args = ["finetune", "classify", "human-numbers-parity", *SCRATCH, "--epochs", "1"]
    result = invoke(*args, "--out", run)
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert "--resume" not in result.output.replace("nothing to resume", "")
    result = invoke("finetune", "classify", "--resume", run)
    assert result.exit_code == 2 and f"--out {run} --overwrite" in result.output
    result = invoke("pretrain", "--resume", run)
    assert result.exit_code == 2 and "--overwrite" in result.output
    result = invoke(*args, "--out", run, "--overwrite", "--quiet")
    assert result.exit_code == 0, result.output


def test_resume_of_a_finished_run_says_it_is_complete_and_how_to_train_on(clf):
    before = (clf / "train_state.json").read_text()
    result = invoke("finetune", "classify", "--resume", clf)
    assert result.exit_code == 0
    assert "is complete" in result.stderr and "--epochs N" in result.stderr
    assert (clf / "train_state.json").read_text() == before  # nothing trained or rewritten


# -- 8. a newcomer's first hour --------------------------------------------------------------


def test_runs_lists_each_run_with_kind_data_best_and_epochs(clf):
    result = invoke("runs", clf.parent)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if str(clf) in line)
    assert "classify" in row and "human-numbers-parity" in row and "1/1" in row
    assert "accuracy" in row or "macro_f1" in row
    result = invoke("runs", clf.parent / "none")
    assert result.exit_code == 2 and "no such directory" in result.output


def test_a_mistyped_setting_suggests_the_right_one_in_python_and_on_the_command_line():
    import seqlab
    from seqlab.settings import SettingError

    with pytest.raises(SettingError, match="did you mean `epochs`"):
        seqlab.finetune_classify("human-numbers-parity", epoch=3)
    with pytest.raises(SettingError, match="did you mean `epochs`"):
        seqlab.pretrain("human-numbers", epoch=3)
    result = invoke("finetune", "classify", "--epoch", "3")
    assert result.exit_code == 2 and "Did you mean '--epochs'" in result.output


def test_plugins_piped_keeps_every_entry_point_whole():
    from seqlab import registry

    result = invoke("plugins")  # CliRunner's stdout is not a terminal, as a pipe is not
    for row in registry.listing():
        assert row[-1] in result.stdout


def test_generate_help_says_the_prompt_is_an_option():
    result = invoke("generate", "--help")
    assert "Continue PROMPT" not in result.output and "--prompt" in result.output.split("\n\n")[1]
