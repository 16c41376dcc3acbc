"""BIO and BIOES: spans read leniently (as conlleval), conversion both ways, validity, and the
checks that turn a bad tag column into one line."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab_tagging import schemes
from seqlab_tagging.schemes import BIO, BIOES, SchemeError, Span


def test_spans_of_each_scheme():
    bio = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]
    bioes = ["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC"]
    want = [Span("PER", 0, 2), Span("LOC", 3, 4), Span("LOC", 4, 6)]
    assert schemes.spans(bio) == want
    assert schemes.spans(bioes) == want


def test_a_stray_i_starts_a_span_as_conlleval_reads_it():
    assert schemes.spans(["O", "I-PER", "I-PER", "I-LOC"]) == [Span("PER", 1, 3), Span("LOC", 3, 4)]


def test_convert_both_ways():
    bio = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "O"]
    bioes = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "O"]
    assert schemes.convert(bio, BIOES) == bioes
    assert schemes.convert(bioes, BIO) == bio


def test_repair_gives_a_valid_sequence_with_the_same_spans():
    bad = ["I-PER", "B-LOC", "I-PER", "O", "E-ORG"]
    for scheme in (BIO, BIOES):
        fixed = schemes.repair(bad, scheme)
        assert schemes.is_valid(fixed, scheme)
        assert schemes.spans(fixed) == schemes.spans(bad)


TYPES = ["PER", "LOC"]
any_tags = st.lists(st.sampled_from(schemes.tag_set(TYPES, BIOES)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(any_tags, st.sampled_from([BIO, BIOES]))
def test_convert_keeps_the_spans_and_is_valid(tags, scheme):
    out = schemes.convert(tags, scheme)
    assert schemes.is_valid(out, scheme)
    assert schemes.spans(out) == schemes.spans(tags)
    assert schemes.convert(out, scheme) == out  # valid input is left as it is


@settings(max_examples=200, deadline=None)
@given(any_tags, st.sampled_from([BIO, BIOES]))
def test_is_valid_agrees_with_allowed(tags, scheme):
    """A sequence is valid exactly when converting it changes nothing (the definition)."""
    in_scheme = all(t == "O" or t[0] in ("BIES" if scheme == BIOES else "BI") for t in tags)
    assert schemes.is_valid(tags, scheme) == (in_scheme and schemes.convert(tags, scheme) == tags)


def test_allowed_transitions():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    trans, start, end = schemes.allowed(tags, BIO)
    i = tags.index
    assert not trans[i("O")][i("I-PER")]
    assert not trans[i("B-LOC")][i("I-PER")]
    assert trans[i("B-PER")][i("I-PER")] and trans[i("I-PER")][i("I-PER")]
    assert trans[i("I-PER")][i("B-PER")] and trans[i("I-PER")][i("O")]
    assert start == [True, True, False, True, False]
    assert all(end)  # BIO may end anywhere
    tags = schemes.tag_set(["PER"], BIOES)  # O B I E S
    trans, start, end = schemes.allowed(tags, BIOES)
    assert end == [True, False, False, True, True]
    assert start == [True, True, False, False, True]
    assert not trans[tags.index("B-PER")][tags.index("O")]


def test_scheme_of():
    assert schemes.scheme_of(["O", "B-PER", "I-PER"]) == BIO
    assert schemes.scheme_of(["O", "S-PER"]) == BIOES
    assert schemes.scheme_of(["NOUN", "VERB"]) is None
    assert schemes.scheme_of(["O"]) is None


def test_check_finds_a_tag_with_no_type():
    with pytest.raises(SchemeError, match=r"tag 'I-' has no type") as e:
        schemes.check([["B-PER", "O"], ["O", "I-"]])
    assert (e.value.sentence, e.value.word) == (1, 1)


def test_check_finds_a_number_column():
    with pytest.raises(SchemeError, match="holds numbers"):
        schemes.check([["1", "2", "3"], ["4"]])


def test_check_finds_the_words_again():
    words = [[f"w{i}" for i in range(30)]]
    with pytest.raises(SchemeError, match="holds the words"):
        schemes.check(words, words)


def test_check_finds_bio_mixed_into_bioes():
    with pytest.raises(SchemeError, match="ends an entity, as BIO writes it") as e:
        schemes.check([["S-PER", "O"], ["O", "B-LOC", "O"]])
    assert (e.value.sentence, e.value.word) == (1, 1)
    assert schemes.check([["S-PER", "O"], ["B-LOC", "E-LOC"]]) == BIOES
    assert schemes.check([["B-PER", "O"], ["B-LOC", "I-LOC"]]) == BIO
    assert schemes.check([["NOUN", "VERB"]]) is None
