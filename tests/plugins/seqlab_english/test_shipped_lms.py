"""The shipped English character LMs (plugins/seqlab_english): the files load, match the
sha256 recorded when they were built, reproduce their recorded bits per character on held-out
text, and work by name wherever an LM run directory does."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab.store.errors import CheckpointError
from seqlab.tasks import transfer
from seqlab_english import shipped
from seqlab_english.lms import HERE, english
from seqlab_english.score import SAMPLE, bits_per_char

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_a_shipped_lm_matches_its_sha256_and_its_recorded_bits_per_char(direction):
    stem = english(backward=direction == "backward")
    for ext in (".json", ".safetensors"):
        data = stem.with_suffix(ext).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shipped.SHA256[stem.name + ext]
    bpc = bits_per_char(stem, SAMPLE.read_text(encoding="utf-8"))
    assert bpc == pytest.approx(shipped.BPC[direction], abs=2e-3)
    assert bpc < 2.5  # a trained LM: a uniform guess over its 134 characters is 7.07


def test_the_name_reads_each_direction_as_the_option_asks():
    fwd, bwd = (transfer.load_pretrained(Path("english"), b) for b in (False, True))
    assert (fwd.level, bwd.level) == ("char", "char")
    assert (fwd.config.backward, bwd.config.backward) == (False, True)
    assert fwd.vocab.itos == bwd.vocab.itos
    # stored in 16 bits, read as the float32 the tagger computes in
    assert {t.dtype for t in fwd.tensors.values() if t.is_floating_point()} == {torch.float32}


def test_the_shipped_weights_stay_small():
    assert sum(p.stat().st_size for p in HERE.glob("*.safetensors")) <= 20 * 2**20


def test_a_damaged_shipped_file_is_refused_before_anything_is_read(tmp_path):
    root = tmp_path / "lms"
    shutil.copytree(HERE, root)
    weights = root / "forward.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"forward.safetensors: sha256 .* reinstall"):
        english(False, root=root)
    assert english(True, root=root).name == "backward"  # the other file is untouched


def test_an_unknown_lm_name_is_one_line_naming_the_shipped_ones(tmp_path):
    r = run("finetune", "tag", "--encoder", "englsh", "--train", EXAMPLES / "train.conllu",
            "--valid", EXAMPLES / "dev.conllu", "--out", tmp_path / "tag")  # fmt: skip
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "englsh: no such run directory or checkpoint" in r.output
    assert "(shipped: english)" in r.output
    assert not (tmp_path / "tag").exists()


def test_a_tagger_on_the_shipped_pair_trains_and_predicts(tmp_path):
    out = tmp_path / "tag"
    r = run("finetune", "tag", "--encoder", "english", "--backward-encoder", "english",
            "--train", EXAMPLES / "train.conllu", "--valid", EXAMPLES / "dev.conllu",
            "--epochs", "1", "--out", out, "--quiet")  # fmt: skip
    assert r.exit_code == 0, r.output
    settings = json.loads((out / "config.json").read_text())["settings"]
    assert (settings["encoder"], settings["backward_encoder"]) == (["english"], ["english"])
    r = run("predict", out, EXAMPLES / "sentences.txt")
    assert r.exit_code == 0, r.output
    assert len([line for line in r.output.splitlines() if "\t" in line]) > 10


@pytest.mark.parametrize("backward", [False, True])
def test_pretrain_init_english_continues_the_lm_on_your_text(tmp_path, backward):
    out = tmp_path / "lm"
    extra = ["--backward"] if backward else []
    r = run("pretrain", EXAMPLES / "text", "--init", "english", *extra, "--epochs", "1",
            "--cache-dir", tmp_path / "cache", "--out", out, "--quiet")  # fmt: skip
    assert r.exit_code == 0, r.output
    config = json.loads((out / "config.json").read_text())
    assert config["level"] == "char"  # taken from the LM: no --level char needed
    assert config["encoder"]["backward"] is backward
    lm = transfer.load_pretrained(Path("english"), backward)
    assert config["encoder"]["hidden"] == lm.config.hidden
    # the run starts where the shipped LM is: its first epoch's bpc is a trained LM's
    assert float(json.loads((out / "last.json").read_text())["metrics"]["bpc"]) < 3.5


def test_the_wheel_carries_every_shipped_file():
    """The package data globs in pyproject.toml cover every file the plugin reads (a wheel
    without them would install an `english` that cannot load)."""
    import tomllib

    root = Path(__file__).resolve().parents[3]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["seqlab_english"]
    package = root / "plugins" / "seqlab_english"
    carried = {p for g in globs for p in package.glob(g)}
    needed = [*HERE.glob("*.safetensors"), *HERE.glob("*.json"), SAMPLE]
    assert needed and set(needed) <= carried
