"""The default classifier (no LM: the n-gram regression; --word-view on top) from the CLI: train,
predict in another process with the same probabilities, --json, --explain, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from classify_helpers import TINY_FT, invoke, labelled_csv
from click.testing import CliRunner

from seqlab import load_model
from seqlab.cli.main import cli
from seqlab_classify.data import encode
from seqlab_classify.explain import top_ngrams
from seqlab_classify.predict import class_probabilities

SMALL = ["--ngram-buckets", "4096", "--ngram-dim", "8"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data")
    return {
        s: labelled_csv(tmp / f"{s}.csv", n, seed)
        for s, n, seed in (("train", 48, 0), ("valid", 16, 1), ("test", 16, 2))
    }


def train(data, out, *args):
    result = invoke(
        "finetune", "classify", "--train", data["train"], "--valid", data["valid"],
        "--test", data["test"], *TINY_FT, *SMALL, *args, "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def default_run(data, tmp_path_factory):
    return train(data, tmp_path_factory.mktemp("clf") / "run")


@pytest.fixture(scope="module")
def linear_run(data, tmp_path_factory):
    """The n-grams alone (fastText), trained long enough to learn the sentiment words."""
    out = tmp_path_factory.mktemp("clf") / "linear"
    return train(data, out, "--no-word-view", "--ngram-join", "logits", "--epochs", "6", "--lr",
                 "0.1", "--no-ngram-idf", "--ngram-mode", "mean")  # fmt: skip


@pytest.fixture(scope="module")
def idf_run(data, tmp_path_factory):
    """The same with TF-IDF's weights and norm on the bag."""
    out = tmp_path_factory.mktemp("clf") / "idf"
    return train(data, out, "--no-word-view", "--ngram-join", "logits", "--epochs", "6", "--lr",
                 "0.1", "--ngram-idf", "--ngram-mode", "l2")  # fmt: skip


@pytest.fixture(scope="module")
def convex_run(data, tmp_path_factory):
    """The n-grams alone as the fitted regression (only its bias trains)."""
    out = tmp_path_factory.mktemp("clf") / "convex"
    return train(data, out, "--no-word-view", "--ngram-join", "convex", "--epochs", "2")


def test_no_encoder_trains_the_ngram_regression_alone(default_run):
    _, _, meta = load_model(default_run / "best")
    assert meta["encoder_kind"] == "classify-ngrams"
    assert meta["encoder"]["inner_kind"] is None  # no word view unless asked (--word-view)
    assert meta["encoder"]["ngrams"]["buckets"] == 4096
    assert meta["head"]["config"]["join"] == "convex"
    assert meta["head"]["config"]["ngram_dim"] == 2  # the regression's: a column per class
    scores = json.loads((default_run / "scores.json").read_text())
    assert scores["split"] == "test" and scores["n"] == 16


def test_the_report_says_how_far_the_probabilities_can_be_trusted(default_run, data):
    """scores.json and report.txt give the calibration of the test predictions, computed
    from the probabilities `seqlab predict` gives."""
    metrics = json.loads((default_run / "scores.json").read_text())["metrics"]
    model, vocab, meta = load_model(default_run / "best")
    rows = data["test"].read_text().splitlines()[1:]
    texts, labels = zip(*(row.rsplit(",", 1) for row in rows), strict=True)
    probs = class_probabilities(model, vocab, list(texts))
    true = [meta["labels"].index(y) for y in labels]
    assert metrics["confidence"] == pytest.approx(probs.max(1).mean(), abs=1e-6)
    assert metrics["log_loss"] == pytest.approx(-np.log(probs[range(16), true]).mean(), abs=1e-5)
    assert 0 <= metrics["ece"] <= 1
    report = (default_run / "report.txt").read_text()
    assert f"expected calibration error {metrics['ece']:.3f}" in report


def test_convex_fits_the_ngram_table_once_and_training_leaves_it(data, tmp_path):
    """--ngram-join convex: the table is the regression's (a column per class), the same
    whatever training follows; the word view on top does train."""
    runs = [train(data, tmp_path / f"e{n}", "--word-view", "--epochs", str(n)) for n in (1, 3)]
    (m1, _, meta), (m3, _, _) = (load_model(r / "last") for r in runs)
    assert meta["encoder"]["fitted"] and meta["head"]["config"]["join"] == "convex"
    assert m1.encoder.bag.weight.shape == (4096 + 1, 2)
    assert m1.encoder.bag.weight.abs().sum() > 0
    torch.testing.assert_close(m3.encoder.bag.weight, m1.encoder.bag.weight, rtol=0, atol=0)
    assert not torch.equal(m3.head.layers[-1].weight, m1.head.layers[-1].weight)
    assert m1.head.layers[-1].weight.abs().sum() > 0  # it moved from its zero start


def test_predict_in_another_process_gives_the_checkpoints_probabilities(default_run, data):
    """The checkpoint alone reproduces the features: another process (another hash seed)
    gives the probabilities this one computes from the reloaded model."""
    model, vocab, meta = load_model(default_run / "best")
    texts = [line.split(",")[0] for line in data["test"].read_text().splitlines()[1:]]
    here = class_probabilities(model, vocab, texts)
    lines = data["test"].parent / "test.txt"
    lines.write_text("\n".join(texts) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "7"}
    out = subprocess.run(
        [sys.executable, "-m", "seqlab", "predict", str(default_run), str(lines), "--json"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    there = np.array([[r["probabilities"][c] for c in meta["labels"]] for r in records])
    np.testing.assert_allclose(there, here, atol=2e-6)
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in records)


def test_predict_does_not_import_scikit_learn(default_run):
    """Prediction never scores, and scikit-learn's import costs more CPU than classifying a
    few thousand texts: `seqlab predict` must not import it."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['seqlab', 'predict', {str(default_run)!r}, '--text', 'a fine film']\n"
        "try:\n    runpy.run_module('seqlab', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print('imported:', sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn')[:1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "imported: []"
    assert out.stdout.splitlines()[0].split("\t")[0] in ("pos", "neg")  # it did predict


@pytest.mark.parametrize("run", ["linear_run", "idf_run", "convex_run"])
def test_explain_weights_add_up_to_the_logit(run, request):
    """n-grams alone: the logit is linear in them, so their weights and the bias are it."""
    model, vocab, meta = load_model(request.getfixturevalue(run) / "best")
    text = "good great nice movie"
    everything = top_ngrams(model, vocab, text, "word", False, top=10_000)
    pos = meta["labels"].index("pos")
    row = class_probabilities(model, vocab, [text])[0]
    assert int(row.argmax()) == pos
    x = torch.from_numpy(encode([text], vocab, False, "word", model.encoder.hasher)[0])
    with torch.no_grad():
        logit = float(model(x[None].long())[0, pos])
        head = model.head
        bias = float((head.ngram_out.bias if head.ngram_out else head.ngram_bias)[pos])
    # weights are rounded to 4 decimals each
    assert abs(sum(e["weight"] for e in everything) + bias - logit) < 1e-4 * len(everything) + 1e-5
    top = top_ngrams(model, vocab, text, "word", False, label=pos)
    assert len(top) == 5 and top[0]["weight"] >= top[-1]["weight"]
    # what weighs for "pos" comes from its words, not from "movie", which every text has
    assert any(e["ngram"] in "<good> <great> <nice>" and e["ngram"] not in "<movie>" for e in top)


def test_predict_explain_from_the_cli(linear_run):
    result = invoke("predict", linear_run, "--text", "good great movie", "--explain")
    assert result.exit_code == 0, result.output
    first, because = result.output.splitlines()
    assert first.startswith("pos\t") and because.startswith("  because: ")
    result = invoke("predict", linear_run, "--text", "bad awful", "--json", "--explain")
    record = json.loads(result.output)
    assert set(record["probabilities"]) == {"neg", "pos"}
    assert len(record["explain"]) == 5 and {"ngram", "kind", "weight"} <= set(record["explain"][0])


def test_explain_without_ngrams_is_a_one_line_error(data, tmp_path):
    run = train(data, tmp_path / "plain", "--no-ngrams")
    _, _, meta = load_model(run / "best")
    assert meta["encoder_kind"] == "classify-words"
    result = CliRunner().invoke(cli, ["predict", str(run), "--text", "good", "--explain"])
    assert result.exit_code == 2 and "no n-gram channel" in result.output
    assert "Traceback" not in result.output


def test_a_builtin_dataset_needs_no_lm(tmp_path):
    out = tmp_path / "mod3"
    result = invoke("finetune", "classify", "human-numbers-mod3", "--epochs", "1", *SMALL,
                    "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    result = invoke("predict", out, "--text", "nine thousand nine hundred ninety nine")
    assert result.exit_code == 0 and result.output.split("\t")[0] in {"0", "1", "2"}


def test_bad_input_is_one_line_naming_file_or_flag(data, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("text,label\ngood film,pos\nnice film,pos\n", encoding="utf-8")
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("text,label\ngood film,meh\n", encoding="utf-8")
    cases = [
        (["--train", data["train"], "--char-ngrams", "5-2"], "--char-ngrams"),
        (["--train", data["train"], "--char-ngrams", "two"], "--char-ngrams"),
        (["--train", data["train"], "--word-ngrams", "9"], "--word-ngrams"),
        (["--train", data["train"], "--ngram-buckets", "0"], "--ngram-buckets"),
        (["--train", one], "one.csv: only one label"),
        (["--train", data["train"], "--test", unseen], "unseen.csv, line 2: label 'meh' never"),
        (["--train", data["train"], "--no-ngrams", "--no-word-view"], "nothing to read"),
    ]
    for args, message in cases:
        out = tmp_path / "run"
        result = CliRunner().invoke(
            cli, ["finetune", "classify", *map(str, args), "--out", str(out)]
        )
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) <= 3, result.output  # usage + error
        assert not out.exists()
