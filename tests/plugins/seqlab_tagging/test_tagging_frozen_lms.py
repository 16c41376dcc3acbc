"""Frozen character LMs are read once per sentence while a tagger trains (CharLMReader.
remember): the run that reads them back from memory ends bit for bit where the run that reads
them every epoch ends, and the LM runs only on sentences it has not read."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from seqlab.cli.main import cli
from seqlab_tagging.charlm import CharLMReader

TINY_CHAR = ["--level", "char", "--hidden", "16", "--emb-size", "8", "--layers", "1"]
TINY_CHAR += ["--bs", "16", "--bptt", "40", "--epochs", "1"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def char_lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("frozen")
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        r = run("pretrain", "human-numbers", *TINY_CHAR, *extra, "--out", root / name)
        assert r.exit_code == 0, r.output
    return root


def tag(char_lms, out):
    args = ["finetune", "tag", "human-numbers-roles", "--encoder", char_lms / "fwd"]
    args += ["--backward-encoder", char_lms / "bwd", "--epochs", "2", "--seed", "3"]
    r = run(*args, "--bs", "16", "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    return load_file(out / "last.safetensors")


def test_remembered_vectors_train_the_same_tagger_as_reading_every_epoch(
    char_lms, tmp_path, monkeypatch
):
    reads: list[tuple[int, bytes]] = []  # (reader, an LM input row) of every LM call
    original = CharLMReader._read

    def counting(self, stream):
        if stream.size(1) > 2:  # not the one-off read of xxbos alone
            for row in stream:  # the row without its padding: the sentence whatever the batch
                real = int((row != self.pad).nonzero().max()) + 1
                reads.append((id(self), row[:real].numpy().tobytes()))
        return original(self, stream)

    monkeypatch.setattr(CharLMReader, "_read", counting)
    remembered = tag(char_lms, tmp_path / "remembered")
    once = list(reads)
    reads.clear()
    monkeypatch.setattr(CharLMReader, "remember", lambda self, on=True: None)
    every_epoch = tag(char_lms, tmp_path / "every-epoch")
    assert remembered.keys() == every_epoch.keys()
    for k in remembered:
        assert torch.equal(remembered[k], every_epoch[k]), k
    # remembering, each LM read each sentence once (two epochs, validation, test scoring);
    # reading every time, it read the training and validation sentences again
    assert len(set(once)) == len(once) < len(reads)


def test_a_trainable_lm_never_remembers():
    from seqlab import EncoderConfig, StatefulEncoder

    lm = StatefulEncoder(EncoderConfig(vocab_size=10, hidden=8, layers=1, stateful=False))
    reader = CharLMReader(lm, space=3, bos=2, n_chars=5, trainable=True)
    reader.remember()
    assert reader.memo is None
    frozen = CharLMReader(lm, space=3, bos=2, n_chars=5)
    frozen.remember()
    assert frozen.memo == {}


def test_a_full_memo_reads_the_rest_again_with_the_same_vectors(monkeypatch):
    from seqlab import EncoderConfig, StatefulEncoder
    from seqlab.nn import encoder

    lm = StatefulEncoder(EncoderConfig(vocab_size=10, hidden=8, layers=1, stateful=False))
    reader = CharLMReader(lm, space=3, bos=2, n_chars=6)
    reader.lm_ids.copy_(torch.tensor([0, 1, 4, 5, 6, 7]))
    chars = torch.tensor([[[2, 3, 1], [4, 1, 1]], [[5, 5, 2], [1, 1, 1]]])  # tagger char ids
    words = torch.tensor([[True, True], [True, False]])
    want = reader(chars, words, pad=1)
    monkeypatch.setattr(encoder, "MEMO_BYTES", 1)  # room for one sentence, then none
    reader.remember()
    for _ in range(2):
        # rows read in another batch shape: equal up to float rounding
        torch.testing.assert_close(
            reader(chars, words, pad=1)[words], want[words], rtol=0, atol=1e-6
        )
    assert len(reader.memo) == 1
