"""`seqlab pretrain PATH...` on plain-text files: the cache, config.json, resume, bad input."""

import json
import random
import shutil
from pathlib import Path

import torch
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors

TINY = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "8", "--bptt", "10"]


def pretrain(*args):
    return CliRunner().invoke(cli, ["pretrain", *args], catch_exceptions=False)


def corpus(tmp_path):
    rng = random.Random(0)
    words = [f"w{i}" for i in range(40)]
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt"):
        lines = (" ".join(rng.choices(words, k=10)) + " ." for _ in range(60))
        (d / name).write_text("\n".join(lines) + "\n")
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(" ".join(rng.choices(words, k=10)) for _ in range(20)))
    return d, valid


def test_pretrain_on_a_directory_records_the_cache_and_reuses_it(tmp_path):
    d, valid = corpus(tmp_path)
    cache = tmp_path / "cache"
    args = [str(d), "--valid", str(valid), "--cache-dir", str(cache), *TINY, "--epochs", "1"]
    first = pretrain(*args, "--out", str(tmp_path / "r1"))
    assert first.exit_code == 0, first.output
    assert "train: 1,322 tokens in 2 documents" in first.output
    config = json.loads((tmp_path / "r1" / "config.json").read_text())
    text = config["text"]
    assert [p.rsplit("/", 2)[-2:] for p in text["train"]] == [["corpus", "a.txt"], ["sub", "b.txt"]]
    assert text["valid"] == [str(valid.resolve())] and text["settings"]["min_freq"] == 2
    assert Path(text["cache"]).parent == (tmp_path / "cache" / "text").resolve()
    assert config["encoder"]["vocab_size"] == 8 + 41  # specials, 40 words and "."
    second = pretrain(*args, "--out", str(tmp_path / "r2"))
    assert second.exit_code == 0 and "using the token cache" in second.output


def test_resume_rebuilds_a_deleted_cache_and_matches_an_uninterrupted_run(tmp_path, ctrl_c_at_step):
    d, valid = corpus(tmp_path)
    args = [
        str(d),
        "--valid",
        str(valid),
        "--cache-dir",
        str(tmp_path / "cache"),
        *TINY,
        "--epochs",
        "2",
    ]
    assert pretrain(*args, "--out", str(tmp_path / "full")).exit_code == 0
    with ctrl_c_at_step(20):
        assert pretrain(*args, "--out", str(tmp_path / "stopped")).exit_code == 130
    shutil.rmtree(tmp_path / "cache")
    resumed = pretrain("--resume", str(tmp_path / "stopped"))
    assert resumed.exit_code == 0, resumed.output
    full, _ = load_tensors(tmp_path / "full" / "last")
    again, _ = load_tensors(tmp_path / "stopped" / "last")
    assert all(torch.equal(full[k], again[k]) for k in full)

    # the cache gone and a file changed: the run's data cannot be rebuilt, and we say so
    shutil.rmtree(tmp_path / "cache")
    (d / "a.txt").write_text("changed\n")
    # (the run is complete: --epochs 3 trains on, so its data must be read again)
    refused = pretrain("--resume", str(tmp_path / "stopped"), "--epochs", "3")
    assert refused.exit_code == 2 and "text files changed since the run started" in refused.output


def test_a_binary_file_stops_before_any_run_directory_is_made(tmp_path):
    d, _ = corpus(tmp_path)
    (d / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    out = tmp_path / "run"
    result = pretrain(str(d), "--cache-dir", str(tmp_path / "c"), "--out", str(out))
    assert result.exit_code == 2
    assert "logo.png: not UTF-8 at byte offset 0 (bytes 89)" in result.output
    assert "--errors replace" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_names_paths_and_options_that_do_not_fit_are_refused(tmp_path):
    missing = pretrain(str(tmp_path / "nothing-here"))
    assert missing.exit_code == 2 and "nor a registered corpus (installed:" in missing.output
    mixed = pretrain("human-numbers", "--max-vocab", "100")
    assert mixed.exit_code == 2 and "--max-vocab: only for text files" in mixed.output
    d, _ = corpus(tmp_path)
    low = pretrain(str(d), "--max-vocab", "5", "--cache-dir", str(tmp_path / "c"))
    assert low.exit_code == 2 and "'--max-vocab': 5 is not in the range x>8" in low.output
