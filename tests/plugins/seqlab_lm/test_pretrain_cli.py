"""`seqlab pretrain` end to end on the built-in corpus, with tiny settings."""

import json

import torch
from click.testing import CliRunner

from seqlab import Trainer, load_model
from seqlab.checkpoint import load_tensors
from seqlab.cli import cli

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


def test_ctrl_c_saves_last_and_resume_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    args = [*TINY, "--epochs", "2", "--seed", "3"]
    assert pretrain("human-numbers", *args, "--out", str(tmp_path / "full")).exit_code == 0

    real_step, calls = Trainer._train_step, []

    def ctrl_c_at_step_30(self, batch):
        calls.append(1)
        if len(calls) == 30:  # inside the second epoch
            raise KeyboardInterrupt
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "_train_step", ctrl_c_at_step_30)
    stopped = pretrain("human-numbers", *args, "--out", str(tmp_path / "stopped"))
    assert stopped.exit_code == 130 and "--resume" in stopped.output
    monkeypatch.setattr(Trainer, "_train_step", real_step)

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
