"""`seqlab pretrain TEXT --init RUN` (ULMFiT's LM fine-tuning) and labelled files as text."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from seqlab import Trainer, Vocab, load_model
from seqlab.cli.main import cli
from seqlab_lm.init import remap

TINY = ["--hidden", "16", "--emb-size", "8", "--layers", "2", "--bs", "4", "--bptt", "8"]
GENERAL = "the cat sat on the mat and the dog ran far away then slept"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def pretrain(tmp, *args, epochs=1):
    result = invoke(
        "pretrain", *args, *TINY, "--epochs", epochs, "--cache-dir", tmp / "cache", "--min-freq", 1
    )
    return result


@pytest.fixture(scope="module")
def general(tmp_path_factory):
    """A tiny forward and backward general LM (stage (a))."""
    tmp = tmp_path_factory.mktemp("general")
    text = tmp / "general.txt"
    text.write_text("\n".join([GENERAL] * 40) + "\n", encoding="utf-8")
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        result = pretrain(tmp, text, "--doc-per-line", *extra, "--out", tmp / name)
        assert result.exit_code == 0, result.output
    return tmp


def labelled(path, rows, header="text,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def task_rows(n=30):
    """Texts with words the general LM never saw (zebra, yak)."""
    return [f"{'zebra' if i % 2 else 'yak'} sat on the mat,{i % 2}" for i in range(n)]


def test_init_extends_the_vocab_new_rows_at_the_mean(general, tmp_path):
    csv = labelled(tmp_path / "train.csv", task_rows())
    out = tmp_path / "tuned"
    result = pretrain(tmp_path, csv, "--init", general / "fwd", "--lr", "1e-9", "--out", out)
    assert result.exit_code == 0, result.output
    old_model, old_vocab, _ = load_model(general / "fwd" / "last")
    # lr 1e-9: the weights are still those the run started from
    new_model, new_vocab, meta = load_model(out / "last")
    assert new_vocab.itos[: len(old_vocab)] == old_vocab.itos  # old ids kept
    assert {"zebra", "yak"} <= set(new_vocab.itos[len(old_vocab) :])
    old_emb = old_model.encoder.embedding.weight.detach()
    new_emb = new_model.encoder.embedding.weight.detach()
    assert torch.allclose(new_emb[: len(old_vocab)], old_emb, atol=1e-6)
    for word in ("zebra", "yak"):
        assert torch.allclose(new_emb[new_vocab.stoi[word]], old_emb.mean(0), atol=1e-6)
    old_bias, new_bias = old_model.head.decoder.bias.detach(), new_model.head.decoder.bias.detach()
    assert torch.allclose(new_bias[new_vocab.stoi["zebra"]], old_bias.mean(), atol=1e-6)
    assert meta["encoder"]["hidden"] == 16
    config = json.loads((out / "config.json").read_text())
    assert config["init"]["lr_factor"] == pytest.approx(2.6)


def test_init_trains_lower_groups_at_smaller_rates(general, tmp_path, monkeypatch):
    seen = {}
    real = Trainer.__init__

    def spy(self, model, *args, **kwargs):
        seen["mults"], seen["groups"] = kwargs.get("lr_mults"), len(model.layer_groups())
        real(self, model, *args, **kwargs)

    monkeypatch.setattr(Trainer, "__init__", spy)
    csv = labelled(tmp_path / "train.csv", task_rows())
    assert (
        pretrain(tmp_path, csv, "--init", general / "fwd", "--out", tmp_path / "t").exit_code == 0
    )
    n = seen["groups"]  # embedding, 2 RNN layers, decoder
    assert n == 4
    assert seen["mults"] == pytest.approx([2.6 ** -(n - 1 - i) for i in range(n)])
    monkeypatch.setattr(Trainer, "__init__", real)
    result = pretrain(tmp_path, csv, "--out", tmp_path / "plain")  # without --init: one rate
    assert result.exit_code == 0


def test_init_direction_and_level_must_match(general, tmp_path):
    csv = labelled(tmp_path / "train.csv", task_rows())
    result = pretrain(tmp_path, csv, "--init", general / "fwd", "--backward")
    assert result.exit_code == 2
    assert f"--init {general / 'fwd'}: a forward LM" in result.output
    result = pretrain(tmp_path, csv, "--init", general / "bwd")
    assert (
        result.exit_code == 2 and "a backward LM" in result.output and "--backward" in result.output
    )
    result = pretrain(tmp_path, csv, "--init", general / "fwd", "--level", "char")
    assert result.exit_code == 2 and "a word-level LM" in result.output
    result = pretrain(tmp_path, csv, "--init", general / "fwd", "--cell", "lstm")
    assert result.exit_code == 2 and "--cell lstm: the --init LM" in result.output
    assert "Traceback" not in result.output


def test_backward_init_fine_tunes_a_backward_lm(general, tmp_path):
    csv = labelled(tmp_path / "train.csv", task_rows())
    out = tmp_path / "tuned-bwd"
    result = pretrain(tmp_path, csv, "--init", general / "bwd", "--backward", "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["encoder"]["backward"]


def test_text_col_reads_texts_of_a_labelled_file(tmp_path):
    rows = [f'"{w} cat, ""quoted""",a' for w in ("one", "two", "three")] * 10
    csv = labelled(tmp_path / "train.csv", rows, header="sentence,label")
    out = tmp_path / "lm"
    result = pretrain(tmp_path, csv, "--text-col", "sentence", "--out", out)
    assert result.exit_code == 0, result.output
    _, vocab, _ = load_model(out / "last")
    assert {"one", "two", "three", "quoted", "cat"} <= set(vocab.itos)
    assert "a" not in vocab.itos  # the label column is not text
    config = json.loads((out / "config.json").read_text())
    assert config["text"]["settings"]["doc_per_line"] is True
    assert config["text"]["labelled"]["text_col"] == "sentence"
    result = pretrain(tmp_path, csv, "--out", tmp_path / "x")  # default column: text
    assert result.exit_code == 2 and "no column 'text'" in result.output


def test_empty_texts_are_named_and_skipped_only_when_asked(tmp_path):
    rows = task_rows(40)
    rows[2], rows[7] = " ,0", ",1"
    csv = labelled(tmp_path / "train.csv", rows)
    result = pretrain(tmp_path, csv, "--out", tmp_path / "no")
    assert result.exit_code == 2
    assert "train.csv, lines 4, 9 (2 rows): empty text in 'text'" in result.output
    assert "--skip-bad-rows" in result.output
    assert not (tmp_path / "no").exists()
    result = pretrain(tmp_path, csv, "--skip-bad-rows", "--out", tmp_path / "yes")
    assert result.exit_code == 0, result.output
    assert f"{csv}:4, {csv}:9" in result.output


def test_text_options_need_a_labelled_file(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text(GENERAL + "\n", encoding="utf-8")
    result = pretrain(tmp_path, text, "--skip-bad-rows")
    assert result.exit_code == 2 and "--skip-bad-rows: only for labelled files" in result.output


def test_remap_keeps_every_token():
    old, new = Vocab(["xxunk", "b", "a"]), Vocab(["xxunk", "a", "c", "b"])
    (doc,) = remap([np.array([1, 2, 1, 0])], old, new)
    assert [new.itos[i] for i in doc] == ["b", "a", "b", "xxunk"]
