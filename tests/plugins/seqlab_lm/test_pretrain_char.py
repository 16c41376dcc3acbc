"""`seqlab pretrain PATH --level char`: a character LM on the same stream, encoder, trainer and
checkpoints as a word LM; its run and checkpoints say "level": "char"."""

import json
import random

import torch
from click.testing import CliRunner

from seqlab import load_model
from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors

TINY = ["--hidden", "16", "--emb-size", "8", "--bs", "8", "--bptt", "20", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def text_file(tmp_path):
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "Dog", "ran."]
    path = tmp_path / "text.txt"
    path.write_text("\n".join(" ".join(rng.choices(words, k=8)) for _ in range(150)) + "\n")
    return path


def char_args(tmp_path, *extra):
    cache = ["--cache-dir", tmp_path / "cache"]
    return [text_file(tmp_path), "--level", "char", *cache, *TINY, *extra]


def test_a_char_lm_run_records_its_level_and_reads_characters(tmp_path):
    out = tmp_path / "run"
    result = invoke("pretrain", *char_args(tmp_path, "--epochs", "1", "--out", out))
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("epoch"))
    assert "bpc" in header.split()
    config = json.loads((out / "config.json").read_text())
    assert config["level"] == "char" and config["encoder"]["cell"] == "lstm"  # char's default
    assert config["text"]["settings"]["level"] == "char"
    _, vocab, meta = load_model(out / "best")
    assert meta["level"] == json.loads((out / "last.json").read_text())["level"] == "char"
    assert {" ", "\n", "t", "D", "."} <= set(vocab.itos) and len(vocab) < 40
    with (out / "metrics.csv").open() as f:
        row = dict(zip(*(line.strip().split(",") for line in f), strict=True))
    assert abs(float(row["bpc"]) - float(row["valid_loss"]) / 0.6931472) < 1e-4

    generated = invoke("generate", out, "--prompt", "the c", "--n", "7", "--greedy")
    assert generated.exit_code == 0, generated.output
    # characters joined as they are (a word LM would put a space between tokens)
    assert generated.output.startswith("the c") and len(generated.output) >= len("the c") + 7


def test_a_registered_corpus_can_be_read_as_characters(tmp_path):
    out = tmp_path / "run"
    args = [
        "human-numbers",
        "--level",
        "char",
        *TINY,
        "--bs",
        "64",
        "--bptt",
        "100",
        "--epochs",
        "1",
    ]
    result = invoke("pretrain", *args, "--out", out)
    assert result.exit_code == 0, result.output
    _, vocab, meta = load_model(out / "last")
    assert meta["level"] == "char" and {"o", "n", "e", " ", ","} <= set(vocab.itos)


def test_resume_of_a_char_lm_matches_an_uninterrupted_run(tmp_path, ctrl_c_at_step):
    args = char_args(tmp_path, "--epochs", "2", "--backward")
    assert invoke("pretrain", *args, "--out", tmp_path / "full").exit_code == 0
    with ctrl_c_at_step(40):  # inside the second epoch
        assert invoke("pretrain", *args, "--out", tmp_path / "stopped").exit_code == 130
    resumed = invoke("pretrain", "--resume", tmp_path / "stopped")
    assert resumed.exit_code == 0, resumed.output
    full, _ = load_tensors(tmp_path / "full" / "last")
    again, meta = load_tensors(tmp_path / "stopped" / "last")
    assert all(torch.equal(full[k], again[k]) for k in full)
    assert meta["level"] == "char" and meta["encoder"]["backward"]
