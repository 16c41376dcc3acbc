"""The whole path from the CLI: pretrain on own text, fine-tune a classifier, predict."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from seqlab import load_model
from seqlab.cli.main import cli

TINY_LM = ["--hidden", "16", "--emb-size", "8", "--layers", "2", "--bs", "4", "--bptt", "8"]
TINY_FT = ["--epochs", "3", "--bs", "8", "--lin", "8"]
WORDS = {"pos": "good great fine nice", "neg": "bad awful poor sad"}


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def labelled_csv(path, n, seed):
    """Texts of 3-5 words; the label is the sentiment of most words."""
    import random

    rng = random.Random(seed)
    rows = ["text,label"]
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        other = "neg" if label == "pos" else "pos"
        words = rng.choices(WORDS[label].split(), k=3) + rng.choices(WORDS[other].split(), k=1)
        rng.shuffle(words)
        rows.append(f"{' '.join(words)} movie,{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    """`seqlab pretrain PATH --doc-per-line` on unlabelled text, with tiny settings."""
    tmp = tmp_path_factory.mktemp("lm")
    text = tmp / "reviews.txt"
    lines = [f"{a} movie {b} film" for a in WORDS["pos"].split() for b in WORDS["neg"].split()]
    text.write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    out = tmp / "lm"
    result = invoke(
        "pretrain",
        text,
        "--doc-per-line",
        "--min-freq",
        "1",
        *TINY_LM,
        "--epochs",
        "1",
        "--cache-dir",
        tmp / "cache",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data")
    return {
        s: labelled_csv(tmp / f"{s}.csv", n, seed)
        for s, n, seed in (("train", 48, 0), ("valid", 16, 1), ("test", 16, 2))
    }


@pytest.fixture(scope="module")
def classifier(lm_run, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("clf") / "run"
    result = invoke(
        "finetune",
        "classify",
        "--encoder",
        lm_run,
        "--train",
        data["train"],
        "--valid",
        data["valid"],
        "--test",
        data["test"],
        *TINY_FT,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_finetune_writes_a_run_with_report(classifier):
    out, output = classifier
    header = next(line for line in output.splitlines() if line.startswith("epoch"))
    assert header.split()[:5] == ["epoch", "train_loss", "valid_loss", "accuracy", "macro_f1"]
    assert "precision" in output and "test (best checkpoint, 16 examples): accuracy" in output
    for name in ("config.json", "metrics.csv", "best.json", "report.txt", "confusion.png"):
        assert (out / name).is_file(), name
    scores = json.loads((out / "scores.json").read_text())
    assert scores["split"] == "test" and scores["n"] == 16
    metrics = scores["metrics"]
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["macro_f1"] <= 1
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "classify" and config["settings"]["epochs"] == 3
    model, vocab, meta = load_model(out / "best")  # same checkpoint format as pretraining
    assert meta["labels"] == ["neg", "pos"] and model.head.n_classes == 2
    assert meta["encoder_kind"] == "classify-ngrams"  # the n-gram channel beside the LM
    assert meta["encoder"]["inner"]["stateful"] is False
    t = meta["transfer"]
    assert t["discriminative"] and t["unfreeze"] and not t["from_scratch"]
    assert t["known_tokens"] > len(WORDS["pos"].split())  # the LM's words kept their rows


def test_predict_text_file_stdin_json_and_out(classifier, tmp_path):
    out, _ = classifier
    result = invoke("predict", out, "--text", "good great movie", "--text", "bad movie")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    label, prob, text = lines[0].split("\t")
    assert label in ("neg", "pos") and 0.5 <= float(prob) <= 1 and text == "good great movie"

    result = invoke("predict", out, "-", "--json", input="nice film\nsad film\n")
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["line"] for r in records] == [1, 2] and records[1]["text"] == "sad film"
    assert sum(records[0]["probabilities"].values()) == pytest.approx(1, abs=1e-4)

    csv_in = tmp_path / "in.csv"
    csv_in.write_text('id,text\n1,"good, nice"\n', encoding="utf-8")
    target = tmp_path / "pred.txt"
    result = invoke("predict", out, csv_in, "--format", "csv", "--out", target)
    assert result.exit_code == 0, result.output
    assert target.read_text().split("\t")[2] == "good, nice\n"

    csv_in.write_text('id,text\n1,"good\tnice\nfilm"\n2,bad\n', encoding="utf-8")
    result = invoke("predict", out, csv_in, "--format", "csv")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [len(r) for r in rows] == [3, 3] and rows[0][2] == "good\\tnice\\nfilm"


def test_predict_errors_leave_no_output(classifier, tmp_path):
    out, _ = classifier
    target = tmp_path / "pred.txt"
    bad = tmp_path / "in.txt"
    bad.write_bytes(b"good\n\xff\n")
    result = CliRunner().invoke(cli, ["predict", str(out), str(bad), "--out", str(target)])
    assert result.exit_code == 2 and "in.txt, line 2: bytes that are not UTF-8" in result.output
    assert not target.exists()
    result = CliRunner().invoke(cli, ["predict", str(out), "-"], input="good\n\nbad\n")
    assert result.exit_code == 2 and "<stdin>, line 2: empty text" in result.output
    result = CliRunner().invoke(cli, ["predict", str(tmp_path / "nope"), "--text", "a"])
    assert result.exit_code == 2 and "no such run directory" in result.output


def test_from_scratch_on_a_builtin_dataset(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "finetune",
        "classify",
        "human-numbers-parity",
        "--from-scratch",
        "--hidden",
        "8",
        "--emb-size",
        "8",
        "--layers",
        "1",
        "--epochs",
        "1",
        "--bs",
        "64",
        "--lin",
        "8",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "train 450, valid 50, test 1999" in result.output
    meta = json.loads((out / "best.json").read_text())
    assert meta["labels"] == ["even", "odd"]
    assert meta["transfer"] == {
        "encoder": None,
        "from_scratch": True,
        "discriminative": False,
        "unfreeze": False,
    }


def test_user_errors_exit_2_and_write_nothing(lm_run, data, tmp_path):
    backward_lm = tmp_path / "bwd"
    assert (
        invoke(
            "pretrain",
            "human-numbers",
            "--backward",
            "--hidden",
            "8",
            "--emb-size",
            "8",
            "--layers",
            "1",
            "--epochs",
            "1",
            "--out",
            backward_lm,
        ).exit_code
        == 0
    )
    bad_valid = tmp_path / "valid.csv"
    bad_valid.write_text("text,label\ngood,pos\nbad,meh\n", encoding="utf-8")
    cases = [
        (
            ["--encoder", lm_run, "--train", data["train"], "--valid", bad_valid],
            "valid.csv, line 3: label 'meh' never occurs",
        ),
        (["--train", data["train"], "--no-ngrams", "--no-word-view"], "leaves nothing to read"),
        (["--encoder", tmp_path / "nope", "--train", data["train"]], "no such run directory"),
        (["--encoder", lm_run], "nothing to train on"),
        (["human-numbers-roles", "--encoder", lm_run], "for the 'tag' task"),
        (["no-such-set", "--encoder", lm_run], "unknown dataset 'no-such-set'"),
        (["--encoder", backward_lm, "--train", data["train"]], "a backward LM"),
    ]
    for args, message in cases:
        out = tmp_path / "run"
        result = CliRunner().invoke(
            cli, ["finetune", "classify", *map(str, args), "--out", str(out)]
        )
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert not out.exists()
