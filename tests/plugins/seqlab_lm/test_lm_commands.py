"""`seqlab evaluate`, `tune-cache` and `generate` end to end on a tiny human-numbers run,
and the LM head's AR/TAR."""

import csv
import json

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from seqlab import Batch, EncoderConfig, StatefulEncoder
from seqlab.cli.main import cli
from seqlab_lm.head import LMHead

TINY = [
    "--hidden",
    "16",
    "--emb-size",
    "8",
    "--layers",
    "1",
    "--bs",
    "16",
    "--bptt",
    "20",
    "--epochs",
    "1",
]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """A tiny run on all of train and one with a held-out tail (to tune the cache on)."""
    root = tmp_path_factory.mktemp("runs")
    for name, extra in (("full", []), ("held", ["--holdout", "0.15"])):
        result = invoke("pretrain", "human-numbers", *TINY, *extra, "--out", root / name)
        assert result.exit_code == 0, result.output
    return root / "full", root / "held"


def test_evaluate_without_cache_matches_the_runs_own_valid_accuracy(run_dirs):
    full, _ = run_dirs
    result = invoke("evaluate", full, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    with (full / "metrics.csv").open() as f:
        last = list(csv.DictReader(f))[-1]
    assert figures["model"]["accuracy"] == pytest.approx(float(last["accuracy"]), abs=1e-6)
    assert figures["model"]["loss"] == pytest.approx(float(last["valid_loss"]), rel=1e-5)
    assert "model+cache" not in figures


def test_tune_cache_then_evaluate_with_it_and_errors(run_dirs):
    full, held = run_dirs
    result = invoke(
        "tune-cache", held, "--windows", "20,100", "--thetas", "0.3,1", "--lams", "0,0.2,0.5"
    )
    assert result.exit_code == 0, result.output
    tuned = json.loads((held / "cache.json").read_text())
    assert (
        tuned["window"] in (20, 100)
        and tuned["theta"] in (0.3, 1)
        and tuned["lam"] in (0, 0.2, 0.5)
    )
    assert tuned["bs"] == 16  # the run's bs: the best settings depend on the rows' length
    one_row = invoke("evaluate", full, "--cache", "--cache-from", held, "--bs", "1")
    assert one_row.exit_code == 0 and "tuned reading 16 rows, here 1" in one_row.output

    result = invoke("evaluate", full, "--cache", "--cache-from", held, "--errors", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "model+cache" in result.output and str(held) in result.output
    assert "errors of model+cache by target" in result.output
    with (full / "errors-valid-cache.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["by"] for r in rows} == {"target", "previous"}
    for r in rows:
        assert 0 < int(r["errors"]) <= int(r["total"])
    # by-target errors and by-previous errors count the same mistakes
    by = {b: sum(int(r["errors"]) for r in rows if r["by"] == b) for b in ("target", "previous")}
    assert by["target"] == by["previous"]


def test_evaluate_on_the_holdout_split_and_with_one_row(run_dirs):
    _, held = run_dirs
    result = invoke("evaluate", held, "--split", "holdout", "--json")
    with (held / "metrics.csv").open() as f:
        last = list(csv.DictReader(f))[-1]
    assert json.loads(result.output)["model"]["accuracy"] == pytest.approx(float(last["accuracy"]))
    one_row = json.loads(
        invoke("evaluate", held, "--split", "holdout", "--bs", "1", "--json").output
    )
    assert one_row["model"]["n"] > json.loads(result.output)["model"]["n"]  # no row remainders


def test_generate_greedy_is_repeatable_and_continues_the_prompt(run_dirs):
    full, _ = run_dirs
    args = ("generate", full, "--prompt", "eight thousand one ,", "--n", "12", "--greedy")
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    words = first.output.split()
    assert words[:4] == ["eight", "thousand", "one", ","] and len(words) == 16
    sampled = invoke(
        "generate",
        full,
        "--prompt",
        "one , two ,",
        "--n",
        "5",
        "--seed",
        "1",
        "--temperature",
        "0.7",
        "--cache",
    )
    assert sampled.exit_code == 0 and len(sampled.output.split()) == 9


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "{tmp}/nothing"], "no config.json"),
        (["tune-cache", "{tmp}/nothing"], "no config.json"),
        (
            ["generate", "{full}", "--prompt", "one", "--greedy", "--temperature", "1"],
            "exclude each other",
        ),
        (["generate", "{full}", "--prompt", "  "], "empty"),
        (["evaluate", "{full}", "--cache", "--cache-from", "{tmp}"], "no cache.json"),
        (["evaluate", "{full}", "--bs", "0"], "'--bs': 0 is not in the range x>=1"),
        (["generate", "{full}", "--prompt", "one", "--n", "0"], "'--n': 0 is not in the range"),
        (["generate", "{full}", "--prompt", "one", "--temperature", "0"], "'--temperature'"),
        (["tune-cache", "{full}", "--lams", "0,x"], "comma-separated numbers"),
        (["tune-cache", "{full}", "--windows", "0"], "--windows 0: must be at least 1"),
    ],
)
def test_user_mistakes_are_one_line_errors(run_dirs, tmp_path, args, message):
    full, _ = run_dirs
    args = [a.format(tmp=tmp_path, full=full) for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_ar_tar_are_added_in_training_only():
    torch.manual_seed(0)
    encoder = StatefulEncoder(EncoderConfig(vocab_size=10, hidden=8, emb_size=8))
    head = LMHead(encoder, alpha=2.0, beta=1.0)
    hidden = torch.randn(3, 5, 8)
    batch = Batch(torch.zeros(3, 5, dtype=torch.long), torch.randint(0, 10, (3, 5)))

    def cross_entropy(out):
        return F.cross_entropy(out.reshape(-1, 10), batch.y.reshape(-1))

    head.train()
    out = head(hidden)  # no output dropout: AR sees the hidden states themselves
    expected = 2.0 * hidden.pow(2).mean() + (hidden[:, 1:] - hidden[:, :-1]).pow(2).mean()
    torch.testing.assert_close(head.loss(out, batch), cross_entropy(out) + expected)
    head.eval()
    out = head(hidden)
    torch.testing.assert_close(head.loss(out, batch), cross_entropy(out))
    # a checkpoint written before AR/TAR existed still builds the head
    assert (
        LMHead.from_config({"out_drop": 0.1, "tie": True, "last_only": False}, encoder).alpha == 0
    )
