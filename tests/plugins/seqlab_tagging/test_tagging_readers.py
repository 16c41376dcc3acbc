"""Readers and writers: CoNLL columns, CoNLL-U, text; errors name file and line."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab_tagging.readers import ReadError, guess_format, parse, read
from seqlab_tagging.writers import write

CONLLU = """\
# newdoc id = d1
# sent_id = s1
# text = Don't go.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = s2
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
"""

CONLL = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O

Peter NNP B-NP B-PER
"""


def lines(text):
    return text.split("\n")[:-1]


def test_conllu_skips_multiword_tokens_and_empty_nodes():
    s1, s2 = parse(lines(CONLLU), "x.conllu")
    assert s1.words == ["Do", "n't", "go", "."]
    assert s1.tags == ["AUX", "PART", "VERB", "PUNCT"]
    assert s1.line_no == 1 and s2.line_no == 11
    assert parse(lines(CONLLU), "x.conllu", tag_field="xpos")[0].tags == ["VBP", "RB", "VB", "."]
    assert parse(lines(CONLLU), "x.conllu", tag_field="deprel")[1].tags == ["root"]


def test_conll_columns_and_docstart():
    s1, s2 = parse(lines(CONLL), "x.conll")
    assert s1.words == ["EU", "rejects"] and s1.tags == ["B-ORG", "O"]
    assert s2.words == ["Peter"] and s2.tags == ["B-PER"]
    assert s1.line_no == 3
    chunks = parse(lines(CONLL), "x.conll", word_col=1, tag_col=3)
    assert chunks[0].tags == ["B-NP", "B-VP"]
    assert parse(lines(CONLL), "x.conll", word_col=2, tag_col=-1)[1].words == ["NNP"]


def test_a_line_of_only_a_byte_order_mark_or_a_tab_separates_sentences():
    """Real files have both (WNUT17: a TAB line between sentences, a BOM line at the end)."""
    got = parse(["a\tO", "\t", "b\tB-X", "\ufeff", ""], "x.conll")
    assert [(s.words, s.tags) for s in got] == [(["a"], ["O"]), (["b"], ["B-X"])]


def test_writers_give_back_the_input_when_tags_are_gold():
    for text, name, fmt in ((CONLLU, "x.conllu", "conllu"), (CONLL, "x.conll", "conll")):
        sentences = parse(lines(text), name)
        out = io.StringIO()
        write(out, fmt, sentences, [s.tags for s in sentences])
        assert out.getvalue() == text + "\n"


def test_writers_put_predictions_in_the_tag_column_or_field():
    sentences = parse(lines(CONLLU), "x.conllu")
    out = io.StringIO()
    write(out, "conllu", sentences, [["X"] * len(s.words) for s in sentences])
    got = parse(lines(out.getvalue()), "y.conllu")
    assert [s.tags for s in got] == [["X"] * 4, ["X"]]
    assert [s.words for s in got] == [s.words for s in sentences]
    assert "3.1\tgone\tgo\tVERB" in out.getvalue()  # the empty node keeps its fields
    out = io.StringIO()
    write(out, "tsv", sentences, [s.tags for s in sentences])
    assert out.getvalue() == "Do\tAUX\nn't\tPART\ngo\tVERB\n.\tPUNCT\n\nYes\tINTJ\n\n"


def test_words_only_input_gets_a_tag_column_appended():
    sentences = parse(["one", "thousand", "", "two"], "x.conll", need_tags=False)
    assert sentences[0].tags is None
    out = io.StringIO()
    write(out, "conll", sentences, [["A", "B"], ["C"]])
    assert out.getvalue() == "one A\nthousand B\n\ntwo C\n\n"


def test_text_input_as_conllu():
    sentences = parse(["one thousand", "", "two"], "-", need_tags=False)
    assert [s.words for s in sentences] == [["one", "thousand"], ["two"]]
    out = io.StringIO()
    write(out, "conllu", sentences, [["A", "B"], ["C"]])
    got = parse(lines(out.getvalue()), "y.conllu")
    assert [(s.words, s.tags) for s in got] == [(["one", "thousand"], ["A", "B"]), (["two"], ["C"])]


def test_tagged_txt_file_is_read_as_space_separated_columns(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL, encoding="utf-8")
    assert [s.tags for s in read(path)] == [["B-ORG", "O"], ["B-PER"]]
    assert read(path, need_tags=False)[0].source == "text"  # untagged: one sentence a line


def test_format_guess():
    assert guess_format("a.conllu", []) == "conllu"
    assert guess_format("a.bio", ["x"]) == "conll"
    assert guess_format("-", ["1\ta\t_\t_\t_\t_\t_\t_\t_\t_"]) == "conllu"
    assert guess_format("-", ["a\tb"]) == "conll"
    assert guess_format("-", ["a b c"]) == "text"
    assert guess_format("-", ["# sent_id = 1", "1\ta\t_\t_\t_\t_\t_\t_\t_\t_"]) == "conllu"
    assert guess_format("-", ["#hashtag words", "more words"]) == "text"


@pytest.mark.parametrize(
    "text, name, needle",
    [
        ("a B\nb\n", "f.conll", "f.conll:2: 1 column(s)"),
        ("1\ta\t_\n", "f.conllu", "f.conllu:1: 3 tab-separated field(s)"),
        ("# only a comment\n\n1\ta\t_\tX\t_\t_\t_\t_\t_\t_\n", "f.conllu", "f.conllu:1: sentence "),
        ("x\ta\t_\tX\t_\t_\t_\t_\t_\t_\n", "f.conllu", "f.conllu:1: ID 'x'"),
        ("1\t\t_\tX\t_\t_\t_\t_\t_\t_\n", "f.conllu", "f.conllu:1: empty FORM"),
        ("\n\n", "f.conll", "f.conll:2: no sentences"),
        ("a\tB\n\tC\n", "f.conll", "f.conll:2: empty word in column 1"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, name, needle):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReadError) as e:
        read(path)
    assert str(e.value).startswith(f"{path.parent}/{needle}")


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "f.conll"
    path.write_bytes(b"a B\nb C\n\ncaf\xe9 D\n")
    with pytest.raises(ReadError, match=r"f\.conll:4: byte 0xe9 is not UTF-8"):
        read(path)


word = st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=6)
tagged = st.lists(
    st.lists(st.tuples(word, st.sampled_from(["NOUN", "B-X", "I-X", "O"])), min_size=1, max_size=5),
    min_size=1,
    max_size=4,
)


@settings(max_examples=50, deadline=None)
@given(tagged, st.sampled_from(["conll", "conllu"]))
def test_write_then_read_round_trips(sents, fmt):
    """What the writers write, the readers read back: same words, same tags."""
    words = [[w for w, _ in s] for s in sents]
    tags = [[t for _, t in s] for s in sents]
    # words-only CoNLL input (plain text would be re-tokenized: rawtext)
    text_in = parse([line for ws in words for line in [*ws, ""]], "-", "conll", need_tags=False)
    out = io.StringIO()
    write(out, "conllu" if fmt == "conllu" else "tsv", text_in, tags)
    got = parse(lines(out.getvalue()), f"x.{fmt}")
    assert [s.words for s in got] == words
    assert [s.tags for s in got] == tags


def test_a_trailing_tab_or_space_is_not_a_column_so_never_an_empty_tag():
    """An editor's trailing tab on some lines once made "" a tag (issue 23): span F1 went off
    for an NER file. Whitespace at a line's end is no field; an empty tag inside is an error."""
    clean = "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n"
    lines = clean.splitlines()
    trailing = [line + ("\t" if i % 2 == 0 and line else "") for i, line in enumerate(lines)]
    trailing[1] += "  "
    for got in (parse(trailing, "t.conll"), parse(trailing, "t.conll", fmt="conll")):
        assert [s.tags for s in got] == [s.tags for s in parse(lines, "t.conll")]
        assert all("" not in s.tags for s in got)
    with pytest.raises(ReadError, match=r"t.conll:2: empty tag in column 3"):
        parse(["EU\tNNP\tB-ORG", "rejects\tVBZ\t\tx"], "t.conll", tag_col=3)
    conllu = [line + "\t" if line[:1].isdigit() else line for line in CONLLU.splitlines()]
    assert [s.tags for s in parse(conllu, "t.conllu")] == [
        s.tags for s in parse(CONLLU.splitlines(), "t.conllu")
    ]
