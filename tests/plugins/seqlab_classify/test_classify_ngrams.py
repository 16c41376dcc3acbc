"""The n-gram channel: hashing (deterministic, in range, the same in another process), the
per-token rows (reversed with the tokens), the spec's checks and the encoder's round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import Vocab
from seqlab.settings import SettingError
from seqlab_classify.data import encode, tokens
from seqlab_classify.head import ClassifierHead
from seqlab_classify.ngram_encoder import NgramEncoder
from seqlab_classify.ngrams import (
    CHAR,
    SHAPE,
    WORD,
    Hasher,
    NgramSpec,
    bucket,
    frequent_words,
    grams_at,
    shape,
    word_spans,
)
from seqlab_classify.wordview import WordView

words = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([WORD, SHAPE, CHAR]), words, st.integers(3, 1 << 24), st.booleans())
def test_bucket_is_deterministic_and_in_its_kinds_block(kind, gram, buckets, blocks):
    spec = NgramSpec(buckets=buckets, shape_max=2, blocks=blocks)
    b = bucket(kind, gram, spec)
    assert 0 <= b < buckets
    assert b == bucket(kind, gram, spec)
    if blocks:  # word, shape, char: each a third of the buckets, in that order
        encoder = NgramEncoder(None, spec, dim=2)
        assert int(encoder.block_of(torch.tensor(b))) == [WORD, SHAPE, CHAR].index(kind)


@settings(max_examples=60, deadline=None)
@given(st.lists(words.filter(lambda w: not any(c.isspace() for c in w)), min_size=1, max_size=8),
       st.integers(1, 1000), st.integers(1, 20))  # fmt: skip
def test_rows_hold_buckets_in_range_at_each_word(ws, buckets, per_word):
    spec = NgramSpec(buckets=buckets, per_word=per_word)
    pad = 1
    spans = list(enumerate(ws))
    rows = Hasher(spec).rows(spans, len(ws) + 1, pad)
    assert rows.shape == (len(ws) + 1, per_word)
    assert (rows[0] == pad).all()  # xxbos has no n-grams
    real = rows[rows != pad]
    assert ((real >= pad + 1) & (real <= pad + buckets)).all()
    assert all((r != pad).any() for r in rows[1:])  # every word has at least its unigram


def test_a_words_ngrams_are_fasttexts():
    spec = NgramSpec(word_max=2, char_min=2, char_max=3)
    first, second = Hasher(spec).grams(["ab", "c"])
    assert first == [(WORD, "ab"), (CHAR, "<a"), (CHAR, "ab"), (CHAR, "b>"),
                     (CHAR, "<ab"), (CHAR, "ab>")]  # fmt: skip
    assert (WORD, "ab c") in second and second[0] == (WORD, "c")
    assert len(Hasher(NgramSpec(per_word=3)).grams(["abcdefgh"])[0]) == 3


def test_hashing_is_the_same_in_another_process():
    """Python's hash() of a str changes with PYTHONHASHSEED; the buckets must not."""
    grams = ["the", "<th", "lol !!!", "naïve"]
    code = (
        "import json,sys; from seqlab_classify.ngrams import NgramSpec, bucket; "
        f"print(json.dumps([bucket('c', g, NgramSpec()) for g in {grams!r}]))"
    )
    got = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        got.append(json.loads(out.stdout))
    assert got[0] == got[1] == [bucket("c", g, NgramSpec()) for g in grams]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"buckets": 0}, "ngram_buckets"),
        ({"word_max": 9}, "word_ngrams"),
        ({"char_min": 5, "char_max": 2}, "char_ngrams"),
        ({"word_max": 0, "char_max": 0}, "ngrams"),
    ],
)
def test_a_spec_out_of_range_names_its_setting(kwargs, name):
    with pytest.raises(SettingError) as e:
        NgramSpec(**kwargs)
    assert e.value.name == name


def test_char_level_ngrams_sit_at_each_words_last_character():
    assert word_spans("hi you", "char", list("hi you")) == [(1, "hi"), (5, "you")]
    spec = NgramSpec(char_max=0)
    at = grams_at(word_spans("hi you", "char", list("hi you")), 7, spec)
    assert at[2] == [(WORD, "hi")] and at[6] == [(WORD, "you"), (WORD, "hi you")]
    assert not any(at[i] for i in (0, 1, 3, 4, 5))


def test_backward_rows_are_reversed_with_their_tokens():
    vocab = Vocab(["xxunk", "xxpad", "xxbos", "good", "film"])
    hasher = Hasher(NgramSpec(buckets=97))
    fwd = encode(["good film"], vocab, False, "word", hasher)[0]
    bwd = encode(["good film"], vocab, True, "word", hasher)[0]
    assert fwd.shape == bwd.shape == (3, 1 + 64)
    np.testing.assert_array_equal(bwd[0], fwd[0])
    np.testing.assert_array_equal(bwd[1:], fwd[:0:-1])
    assert list(fwd[:, 0]) == [2, 3, 4]


def tiny_model(join: str, word_view: bool = True):
    spec = NgramSpec(buckets=101, per_word=16)
    inner = WordView(10, emb_size=4, hidden=3) if word_view else None
    encoder = NgramEncoder(inner, spec, dim=5, pad_idx=1, drop=0.2)
    head = ClassifierHead(encoder, 3, lin=4, ngram_dim=5, join=join)
    return encoder, head


@pytest.mark.parametrize(
    "join, word_view", [("features", True), ("logits", True), ("logits", False)]
)
def test_the_encoder_and_head_rebuild_from_their_configs(join, word_view):
    torch.manual_seed(0)
    encoder, head = tiny_model(join, word_view)
    x = torch.randint(0, 10, (2, 4, 17))
    x[..., 1:] = torch.where(torch.rand(2, 4, 16) < 0.5, 1, x[..., 1:] + 2)  # some pads
    encoder.eval(), head.eval()
    want = head(encoder(x), None)
    again = NgramEncoder.from_config(json.loads(json.dumps(encoder.to_dict())))
    head2 = ClassifierHead.from_config(json.loads(json.dumps(head.config())), again)
    again.load_state_dict(encoder.state_dict()), head2.load_state_dict(head.state_dict())
    again.eval(), head2.eval()
    torch.testing.assert_close(head2(again(x), None), want, rtol=0, atol=0)


def test_ngram_dropout_only_while_training_and_padding_row_stays_zero():
    torch.manual_seed(0)
    encoder, _ = tiny_model("logits", word_view=False)
    x = torch.full((1, 3, 17), 5)
    encoder.eval()
    assert (encoder.bucket_ids(x) != 101).all()
    encoder.train()
    dropped = (encoder.bucket_ids(x) == 101).float().mean()
    assert 0 < dropped < 0.6
    assert encoder.bag.weight[101].abs().sum() == 0


def test_idf_weighs_an_ngram_in_every_text_least_and_survives_the_config():
    spec = NgramSpec(buckets=211, word_max=1, char_max=0)
    vocab = Vocab(["xxunk", "xxpad", "xxbos", "the", "cat", "dog"])
    hasher = Hasher(spec)
    seqs = encode(["the cat", "the dog", "the the"], vocab, False, "word", hasher)
    encoder = NgramEncoder(None, spec, dim=3, pad_idx=1)
    encoder.set_idf(seqs)
    the, cat = (bucket(WORD, w, spec) for w in ("the", "cat"))
    assert encoder.idf[the] == pytest.approx(1.0)  # ln(4 / 4) + 1
    assert encoder.idf[cat] == pytest.approx(np.log(4 / 2) + 1)
    assert encoder.idf[211] == 0  # the padding row
    again = NgramEncoder.from_config(encoder.to_dict())
    again.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(again.idf, encoder.idf)


@pytest.mark.parametrize("idf", [True, False])
def test_an_ngram_no_training_text_has_weighs_nothing_not_even_in_the_norm(idf):
    spec = NgramSpec(buckets=211, word_max=1, char_max=0)
    vocab = Vocab(["xxunk", "xxpad", "xxbos", "the", "cat", "dog", "emu"])
    hasher = Hasher(spec)
    seqs = encode(["the cat", "the dog"], vocab, False, "word", hasher)
    encoder = NgramEncoder(None, spec, dim=3, pad_idx=1)
    encoder.set_idf(seqs, idf)
    cat, emu = (bucket(WORD, w, spec) for w in ("cat", "emu"))
    assert emu not in {bucket(WORD, w, spec) for w in ("the", "cat", "dog")}
    assert encoder.idf[emu] == 0
    assert encoder.idf[cat] == (pytest.approx(np.log(3 / 2) + 1) if idf else 1)
    # the bag's sums and counts: "the cat emu" as "the cat", so its L2 norm too
    with_new, without = (
        encoder(torch.as_tensor(encode([t], vocab, False, "word", hasher)[0][None]))
        for t in ("the cat emu", "the cat")
    )
    torch.testing.assert_close(with_new.sum(1), without.sum(1))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "the", "naïve", "x" * 30]), min_size=1, max_size=6),
       st.integers(0, 3), st.integers(0, 5), st.integers(1, 70), st.integers(0, 3),
       st.booleans())  # fmt: skip
def test_rows_are_the_buckets_of_grams_in_order(ws, word_max, char_max, per_word, shape_max,
                                                blocks):  # fmt: skip
    """The fast path (cached buckets) writes exactly the n-grams `grams` lists (which explain
    names), in its order; with blocks, a word's n-grams come in block order (the encoder
    bags each block's run)."""
    if not word_max and not char_max and not shape_max:
        return
    spec = NgramSpec(buckets=997, word_max=word_max, char_min=min(2, char_max) or 2,
                     char_max=char_max, per_word=per_word, shape_max=shape_max,
                     shape_words=("the",), blocks=blocks)  # fmt: skip
    hasher = Hasher(spec)
    encoder = NgramEncoder(None, spec, dim=2)
    rows = hasher.rows(list(enumerate(ws)), len(ws) + 1, 1)
    for i, grams in enumerate(hasher.grams(ws)):
        want = [bucket(kind, g, spec) + 2 for kind, g in grams]
        assert list(rows[i + 1, : len(want)]) == want
        assert (rows[i + 1, len(want) :] == 1).all()
        order = encoder.block_of(torch.tensor(want, dtype=torch.long) - 2).tolist()
        assert order == sorted(order)


@settings(max_examples=80, deadline=None)
@given(st.lists(words.filter(lambda w: not any(c.isspace() for c in w)), min_size=1, max_size=8),
       st.integers(0, 3), st.integers(1, 1 << 20), st.integers(1, 20))  # fmt: skip
def test_rows_are_the_buckets_of_each_words_ngrams(ws, word_max, buckets, per_word):
    """The fast path (cached CRC-32 parts of word pairs) gives bucket() of every n-gram."""
    spec = NgramSpec(buckets=buckets, per_word=per_word, word_max=word_max)
    pad = 1
    hasher = Hasher(spec)
    for _ in range(2):  # the second time from the caches
        rows = hasher.rows(list(enumerate(ws)), len(ws) + 1, pad)
        for row, grams in zip(rows[1:], hasher.grams(ws), strict=True):
            want = [bucket(kind, g, spec) + pad + 1 for kind, g in grams]
            assert row.tolist() == want + [pad] * (per_word - len(want))


def test_shape_ngrams_keep_the_frequent_words_and_shape_the_rest():
    assert shape("Paris") == "Xxx" and shape("1984") == "dd" and shape("McDonald's") == "XxXxx'x"
    assert shape("lol!!!") == "xx!!"
    kept = frequent_words([["The", "cat", "sat"], ["the", "dog"], ["a", "the", "cat"]], 2)
    assert kept == ("the", "cat")
    spec = NgramSpec(word_max=0, char_max=0, shape_max=2, shape_words=kept)
    grams = Hasher(spec).grams(["The", "Cat", "ran", "to", "Paris"])
    assert grams[0] == [(SHAPE, "the")]
    assert grams[1] == [(SHAPE, "cat"), (SHAPE, "the cat")]
    assert grams[4] == [(SHAPE, "Xxx"), (SHAPE, "xx Xxx")]
    again = NgramSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec  # the kept words survive a checkpoint's JSON


def test_each_kind_is_normed_on_its_own():
    """With blocks, a text's bag is the sum of each kind's L2-normed bag over the square
    root of the kinds: doubling one kind's n-grams does not shrink the others' share."""
    spec = NgramSpec(buckets=300, word_max=1, char_max=0, shape_max=1, blocks=True)
    vocab = Vocab(["xxunk", "xxpad", "xxbos", "a", "b"])
    encoder = NgramEncoder(None, spec, dim=2, pad_idx=1)
    with torch.no_grad():
        encoder.bag.weight.copy_(torch.randn(301, 2))
        encoder.bag.weight[300] = 0
    head = ClassifierHead(encoder, 2, ngram_dim=2, ngram_mode="l2")
    assert head.blocks == 2 and encoder.out_size == 6
    row = encode(["a b"], vocab, False, "word", Hasher(spec))[0]
    x = torch.from_numpy(row.astype(np.int64))[None]
    encoder.eval()
    got = head.bag(encoder(x), None)[0]
    g = encoder.text_buckets(row)
    blocks = encoder.block_of(g)
    want = (
        sum(encoder.bag.weight[g[blocks == b]].sum(0) / (blocks == b).sum().sqrt() for b in (0, 1))
        / 2**0.5
    )
    torch.testing.assert_close(got, want)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_spaced_words_sit_at_their_last_token_and_spell_out_their_tokens(text):
    """Split at whitespace, each word is the run of tokens since the previous word, placed
    at its last one: every token belongs to exactly one word, in order."""
    toks = tokens(text)
    spans = word_spans(text, "word", toks, spaced=True)
    if spans == list(enumerate(toks)) and toks != [w for w in text.split()]:
        return  # the fallback: a text the tokenizer does not spell out as is
    assert [w for _, w in spans] == text.split()
    starts = [-1, *(pos for pos, _ in spans)][: len(spans)]
    for (pos, word), before in zip(spans, starts, strict=True):
        assert "".join(toks[before + 1 : pos + 1]) == word
    assert not spans or spans[-1][0] == len(toks) - 1


def test_spaced_words_keep_punctuation_on_the_word():
    text = "Paris. is (IBM) nice!!"
    assert word_spans(text, "word", tokens(text), spaced=True) == [
        (1, "Paris."), (2, "is"), (5, "(IBM)"), (7, "nice!!")
    ]  # fmt: skip
    assert word_spans(text, "word", tokens(text)) == list(enumerate(tokens(text)))


def test_an_older_runs_spec_keeps_its_ngrams():
    """A checkpoint from before shape n-grams, blocks and whitespace words has none of those
    keys: it hashes as it did (one shared block, the tokens as words, no shape n-grams)."""
    old = {"buckets": 1 << 18, "word_max": 2, "char_min": 2, "char_max": 5, "per_word": 64}
    spec = NgramSpec.from_dict(old)
    assert (spec.n_blocks, spec.spaced, spec.shape_max) == (1, False, 0)
    assert bucket(WORD, "the", spec) == zlib.crc32(b"w\x1fthe") % (1 << 18)
    assert NgramSpec.from_dict(spec.to_dict()) == spec
