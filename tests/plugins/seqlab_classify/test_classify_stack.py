"""Several LMs in one classifier (StackedLMs): a forward and a backward LM read each text side
by side; --freeze-encoder trains the head only."""

from __future__ import annotations

import json

import pytest
import torch
from classify_helpers import TINY_FT, finetune, invoke
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import seqlab
from seqlab import EncoderConfig, StatefulEncoder, load_model
from seqlab.cli.main import cli
from seqlab_classify.stack import StackedLMs
from seqlab_classify.task import CLASSIFICATION, ClassifySettings


def lm_weights(run):
    model, _, _ = load_model(run / "best")
    return {k: v for k, v in model.encoder.state_dict().items() if "embedding" not in k}


@pytest.fixture(scope="module")
def frozen(lms, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("stack") / "frozen"
    return finetune(data, out, "--encoder", lms / "fwd", "--backward-encoder", lms / "bwd",
                    "--freeze-encoder")  # fmt: skip


def test_a_frozen_stack_keeps_both_lms_as_pretrained(lms, frozen):
    model, vocab, meta = load_model(frozen / "best")
    assert meta["encoder"]["inner_kind"] == "classify-stack"
    assert meta["encoder"]["inner"]["frozen"] is True
    stack = model.encoder.inner  # the n-gram channel beside it
    assert [e.config.backward for e in stack.language_models] == [False, True]
    for i, d in enumerate(("fwd", "bwd")):
        pre, pre_vocab, _ = load_model(lms / d / "best")
        for name, tensor in pre.encoder.state_dict().items():
            if name == "embedding.weight":  # rows of the LM's tokens, unchanged
                rows = [vocab.stoi[t] for t in pre_vocab.itos]
                ours = stack.language_models[i].embedding.weight[rows]
            else:
                ours = stack.language_models[i].state_dict()[name]
            assert torch.equal(tensor, ours), name
    assert stack.out_size == 2 * pre.encoder.out_size


def test_a_frozen_stack_predicts_the_same_from_the_cli_and_python(frozen):
    texts = ["good great movie", "bad sad movie"]
    result = invoke("predict", frozen, *[a for t in texts for a in ("--text", t)], "--json")
    assert result.exit_code == 0, result.output
    cli_probs = [json.loads(line)["probabilities"] for line in result.output.splitlines()]
    api_probs = [p["probs"] for p in seqlab.load(frozen).predict(texts)]
    for a, b in zip(cli_probs, api_probs, strict=True):
        assert a == pytest.approx(b, abs=2e-6)


def test_an_unfrozen_stack_fine_tunes_its_lms(lms, data, tmp_path):
    out = finetune(data, tmp_path / "tuned", "--encoder", lms / "fwd", "--backward-encoder",
                   lms / "bwd", "--no-unfreeze", "--lr", "0.01")  # fmt: skip
    model, _, meta = load_model(out / "best")
    assert meta["encoder"]["inner"]["frozen"] is False
    pre, _, _ = load_model(lms / "fwd" / "best")
    tuned = model.encoder.inner.language_models[0].state_dict()
    changed = [k for k, v in pre.encoder.state_dict().items() if k != "embedding.weight"]
    assert any(not torch.equal(pre.encoder.state_dict()[k], tuned[k]) for k in changed)


def test_bad_combinations_are_one_line_errors(lms, data, tmp_path):
    cases = [
        (["--encoder", lms / "fwd", "--freeze-encoder", "--from-scratch"], "--from-scratch"),
        (["--freeze-encoder", "--from-scratch"], "give them with --encoder"),
        (["--encoder", lms / "fwd", "--encoder", lms / "bwd"], "give it with --backward-encoder"),
    ]
    for args, message in cases:
        out = tmp_path / "run"
        result = CliRunner().invoke(
            cli, ["finetune", "classify", "--train", str(data["train"]), *map(str, args),
                  *TINY_FT, "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output and not out.exists()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=4), st.integers(0, 1000))
def test_a_stacked_backward_lm_reads_each_text_reversed_after_xxbos(lengths, seed):
    """Its outputs are a plain backward LM's on the reversed text, in its reading order (the
    last real position is what it read by the end), whatever the padding."""
    torch.manual_seed(seed)
    lm = StatefulEncoder(EncoderConfig(12, hidden=6, layers=1, emb_size=4, pad_idx=1,
                                       backward=True, stateful=False)).eval()  # fmt: skip
    x = torch.full((len(lengths), max(lengths) + 1), 1)
    for i, length in enumerate(lengths):
        x[i, 0] = 2  # xxbos
        x[i, 1 : length + 1] = torch.randint(3, 12, (length,))
    out = StackedLMs([lm], pad_idx=1)(x)
    for i, length in enumerate(lengths):
        row = x[i : i + 1, : length + 1]
        alone = lm(torch.cat([row[:, :1], row[:, 1:].flip(1)], dim=1))
        assert torch.allclose(out[i : i + 1, : length + 1], alone, atol=1e-6)


def test_training_batches_are_random_unless_sorted(lms, tmp_path):
    """Texts of 1..40 words: random batches mix lengths; --sort-batches keeps each batch in
    its own length band (all texts fit one pool of 50 batches)."""
    train = tmp_path / "train.csv"
    rows = ["text,label"] + [f"{' '.join(['good'] * (1 + i % 40))},{'pos' if i % 2 else 'neg'}"
                             for i in range(160)]  # fmt: skip
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spans = {}
    for sort in (False, True):
        s = ClassifySettings(train=train, encoder=(lms / "fwd",), sort_batches=sort, bs=16)
        built = CLASSIFICATION.build(CLASSIFICATION.read(s), s)
        ranges = [(int(b.mask.sum(1).min()), int(b.mask.sum(1).max())) for b in built.train_dl]
        spans[sort] = sorted(ranges)

    def overlapping(ranges):
        return any(a[1] > b[0] for a, b in zip(ranges, ranges[1:], strict=False))

    assert overlapping(spans[False]) and not overlapping(spans[True])


def test_a_frozen_stack_reads_each_text_once_and_trains_as_reading_every_epoch(
    lms, data, tmp_path, monkeypatch
):
    from safetensors.torch import load_file

    reads: list[tuple[int, bytes]] = []  # (LM, text) of every LM call of the trained stack
    trained: list[StackedLMs] = []  # the run's first stack (not the best one scored after)
    original = StackedLMs._read

    def counting(self, lm, x):
        trained[:] = trained or [self]
        if self is trained[0]:
            reads.extend((id(lm), row[row != self.pad_idx].numpy().tobytes()) for row in x)
        return original(self, lm, x)

    monkeypatch.setattr(StackedLMs, "_read", counting)
    args = ("--encoder", lms / "fwd", "--backward-encoder", lms / "bwd", "--freeze-encoder")
    remembered = load_file(finetune(data, tmp_path / "once", *args) / "last.safetensors")
    once = list(reads)
    reads.clear()
    trained.clear()
    monkeypatch.setattr(StackedLMs, "remember", lambda self, on=True: None)
    every = load_file(finetune(data, tmp_path / "every", *args) / "last.safetensors")
    assert remembered.keys() == every.keys()
    for k in remembered:
        assert torch.equal(remembered[k], every[k]), k
    assert len(set(once)) == len(once) < len(reads)


def test_a_trained_stack_never_remembers():
    lm = StatefulEncoder(EncoderConfig(vocab_size=10, hidden=8, layers=1, stateful=False))
    trained = StackedLMs([lm], pad_idx=1, frozen=False)
    trained.remember()
    assert trained.memo is None


def test_a_full_memo_reads_the_rest_again_with_the_same_outputs(monkeypatch):
    from seqlab.nn import encoder

    lm = StatefulEncoder(EncoderConfig(vocab_size=12, hidden=8, layers=1, stateful=False))
    s = StackedLMs([lm], pad_idx=1)
    x = torch.tensor([[2, 5, 6, 7], [2, 8, 9, 1], [2, 5, 6, 7]])  # the third is the first again
    want = s(x)
    mask = (x != 1)[..., None]
    monkeypatch.setattr(encoder, "MEMO_BYTES", 1)  # room for one text, then none
    s.remember()
    for _ in range(2):
        # rows read in another batch shape: equal up to float rounding
        torch.testing.assert_close(s(x) * mask, want * mask, rtol=0, atol=1e-6)
    assert len(s.memo) == 1
