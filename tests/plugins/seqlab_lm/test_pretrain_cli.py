"""`seqlab pretrain` end to end on the built-in corpus, with tiny settings."""

import json
from dataclasses import asdict

import pytest
import torch
from click.testing import CliRunner

from seqlab import load_model
from seqlab.cli.main import cli
from seqlab.settings import SettingError
from seqlab.store.checkpoint import load_tensors
from seqlab_lm.settings import LEVEL_DEFAULTS, PretrainSettings

TINY = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]


def pretrain(*args):
    return CliRunner().invoke(cli, ["pretrain", *args], catch_exceptions=False)


def test_pretrain_writes_a_run_that_loads(tmp_path):
    out = tmp_path / "run"
    result = pretrain("human-numbers", *TINY, "--epochs", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("epoch"))
    assert header.split() == ["epoch", "train_loss", "valid_loss", "accuracy", "perplexity", "time"]
    for name in ("config.json", "metrics.csv", "curves.png", "best.safetensors", "last.json"):
        assert (out / name).is_file(), name
    model, vocab, meta = load_model(out / "best")
    assert len(vocab) == 38 and meta["encoder"]["hidden"] == 16
    ids = torch.from_numpy(vocab.encode("xxbos one , two , three ,".split()).astype("int64"))[None]
    model.eval()
    # the trained model has learnt something: after "three ," comes "four"
    next_word = vocab.itos[int(model(ids)[0, -1].argmax())]
    assert next_word in vocab.itos[8:]  # a word, not a special token
    config = json.loads((out / "config.json").read_text())
    assert config["corpus"] == "human-numbers" and config["train"]["epochs"] == 2
    # a word LM: no "level" key, as in every run before there were levels ("absent: word")
    assert "level" not in config and "level" not in meta and "bpc" not in header.split()


def test_ctrl_c_saves_last_and_resume_matches_an_uninterrupted_run(tmp_path, ctrl_c_at_step):
    args = [*TINY, "--epochs", "2", "--seed", "3"]
    assert pretrain("human-numbers", *args, "--out", str(tmp_path / "full")).exit_code == 0
    with ctrl_c_at_step(30):  # inside the second epoch
        stopped = pretrain("human-numbers", *args, "--out", str(tmp_path / "stopped"))
    assert stopped.exit_code == 130 and "--resume" in stopped.output

    resumed = pretrain("--resume", str(tmp_path / "stopped"))
    assert resumed.exit_code == 0, resumed.output
    full, _ = load_tensors(tmp_path / "full" / "last")
    again, _ = load_tensors(tmp_path / "stopped" / "last")
    assert full.keys() == again.keys()
    assert all(torch.equal(full[k], again[k]) for k in full)


def test_pretrain_user_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args, word in [
        (["human-numbers", "--bs", "0"], "--bs"),
        (["human-numbers", "--bptt", "0"], "--bptt"),
        (["nope"], "human-numbers"),
        (["human-numbers", "--out", str(blocker / "run")], "--out"),
        (["--resume", str(tmp_path)], "config.json"),
        ([], "CORPUS"),
    ]:
        result = pretrain(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert word in result.output.strip().splitlines()[-1], (args, result.output)


def test_the_command_line_defaults_are_the_settings_defaults():
    """One place for a default: PretrainSettings; the CLI options are made from it."""
    from seqlab_lm.pretrain import pretrain as command

    params = command.make_context("pretrain", [], resilient_parsing=True).params
    defaults = asdict(PretrainSettings())
    assert {k: params[k] for k in defaults} == defaults


def test_char_level_defaults_are_the_word_defaults_with_the_char_table_on_top():
    char = PretrainSettings.for_level("char")
    assert char.level == "char"
    word = PretrainSettings()
    assert all(
        getattr(word, k) != v for k, v in LEVEL_DEFAULTS["char"].items()
    )  # --help lists them
    for name, value in asdict(char).items():
        expected = LEVEL_DEFAULTS["char"].get(name, getattr(PretrainSettings(), name))
        assert value == (expected if name != "level" else "char"), name


def test_out_of_range_settings_are_one_line_errors_naming_the_option(tmp_path):
    for args, option in [
        (["--clip", "-1"], "--clip"),  # gradient ascent, before ranges were declared
        (["--hidden", "0"], "--hidden"),
        (["--input-drop", "1"], "--input-drop"),
        (["--holdout", "1"], "--holdout"),
    ]:
        result = pretrain("human-numbers", *args, "--out", str(tmp_path / "run"))
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and option in lines[0], (args, result.output)
        assert not (tmp_path / "run").exists()
    with pytest.raises(SettingError, match="clip must be at least 0, got -1"):
        PretrainSettings(clip=-1)
