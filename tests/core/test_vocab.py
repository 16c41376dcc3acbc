from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab import SPECIALS, UNK, Vocab

words = st.lists(st.text(alphabet="abcdefgh,", min_size=1, max_size=4), max_size=60)


@given(words)
def test_json_round_trip_keeps_every_token_and_id(tokens):
    vocab = Vocab.build(Counter(tokens))
    again = Vocab.from_json(vocab.to_json())
    assert again == vocab
    assert again.stoi == vocab.stoi


@given(words)
def test_encode_then_decode_gives_tokens_back(tokens):
    vocab = Vocab.build(Counter(tokens))
    assert vocab.decode(vocab.encode(tokens)) == tokens
    assert vocab.textify(vocab.encode(tokens)) == " ".join(tokens)


@given(words, st.integers(1, 5))
def test_build_orders_by_count_then_first_appearance(tokens, min_freq):
    vocab = Vocab.build(Counter(tokens), min_freq=min_freq)
    assert vocab.itos[: len(SPECIALS)] == list(SPECIALS)
    counts = Counter(tokens)
    first = {t: tokens.index(t) for t in counts}
    words_ = vocab.itos[len(SPECIALS) :]
    assert all(counts[w] >= min_freq for w in words_)
    keys = [(-counts[w], first[w]) for w in words_]
    assert keys == sorted(keys)
    assert set(words_) == {t for t, n in counts.items() if n >= min_freq and t not in SPECIALS}


def test_unknown_tokens_map_to_xxunk():
    vocab = Vocab.build(Counter(["a", "b"]))
    ids = vocab.encode(["a", "zzz"])
    assert vocab.decode(ids) == ["a", UNK]


def test_max_vocab_keeps_most_frequent():
    vocab = Vocab.build(Counter("aaabbc"), max_vocab=len(SPECIALS) + 2)
    assert vocab.itos[len(SPECIALS) :] == ["a", "b"]


def test_duplicate_tokens_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        Vocab([UNK, "a", "a"])
