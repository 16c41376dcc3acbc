"""Raw text into sentences and words with offsets, and entities as plain dicts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab_tagging.entities import entities
from seqlab_tagging.rawtext import spaced, split
from seqlab_tagging.readers import read_text


def test_words_are_split_as_tagged_corpora_split_them():
    (s,) = split("Mr. Smith (IBM) moved to Paris.")
    assert s.words == ["Mr.", "Smith", "(", "IBM", ")", "moved", "to", "Paris", "."]


def test_a_paragraph_becomes_sentences_with_offsets_into_the_paragraph():
    text = "Anna lives in Oslo. She works for Acme!  Don't ask."
    got = split(text)
    assert [s.words for s in got] == [
        ["Anna", "lives", "in", "Oslo", "."],
        ["She", "works", "for", "Acme", "!"],
        ["Do", "n't", "ask", "."],
    ]
    assert got[1].offsets[3] == (text.index("Acme"), text.index("Acme") + 4)


def test_html_escapes_and_urls_stay_pieces_of_the_text():
    text = "see http://example.com/a?b=1 or AT&amp;T now"
    (s,) = split(text)
    assert s.words[-1] == "now" and "or" in s.words  # no word swallowed by the URL
    assert [text[a:b] for a, b in s.offsets] == s.words


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_offsets_point_at_the_words(text):
    for s in split(text):
        assert s.words and len(s.words) == len(s.offsets)
        for w, (a, b) in zip(s.words, s.offsets, strict=True):
            assert text[a:b] == w and w.strip()
        assert [a for a, _ in s.offsets] == sorted(a for a, _ in s.offsets)


def test_read_text_keeps_the_line_and_offsets():
    got = read_text(["One here. Two there.", "", "three"], "x.txt")
    assert [(s.line_no, s.words) for s in got] == [
        (1, ["One", "here", "."]),
        (1, ["Two", "there", "."]),
        (3, ["three"]),
    ]
    assert got[1].lines == ["One here. Two there."] and got[1].offsets[0] == (10, 13)


def test_entities_from_tags_with_offsets_and_scores():
    text = "We met Anna Diaz in New York ."
    words = text.split()
    tags = ["O", "O", "B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    probs = [1, 1, 0.9, 0.7, 1, 0.6, 0.8, 1]
    got = entities(tags, probs, spaced(words), text, first_word=10)
    assert got == [
        {"text": "Anna Diaz", "type": "PER", "start": 12, "end": 14, "start_char": 7,
         "end_char": 16, "score": 0.8},
        {"text": "New York", "type": "LOC", "start": 15, "end": 17, "start_char": 20,
         "end_char": 28, "score": 0.7},
    ]  # fmt: skip
    assert entities(["S-X", "O"], [0.5, 1], [(0, 2), (3, 4)], "ab c") == [
        {"text": "ab", "type": "X", "start": 0, "end": 1, "start_char": 0, "end_char": 2,
         "score": 0.5}
    ]  # fmt: skip
