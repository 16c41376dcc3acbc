"""Readers: CSV, TSV, JSONL; every bad file is an error naming the file and the line."""

from __future__ import annotations

import pytest

from seqlab.data.labelled import DataError, check_labels, guess_format, read_examples


def write(tmp_path, name, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_csv_with_quotes_and_multiline_fields(tmp_path):
    path = write(tmp_path, "a.csv", 'id,text,label\n1,"hello, world",pos\n\n2,"two\nlines",neg\n')
    ex = read_examples(path)
    assert [(e.text, e.label, e.line) for e in ex] == [
        ("hello, world", "pos", 2),
        ("two\nlines", "neg", 4),
    ]


def test_tsv_and_jsonl_and_column_names(tmp_path):
    tsv = write(tmp_path, "a.tsv", "label\tsentence\nx\tone two\n")
    assert read_examples(tsv, text_col="sentence")[0][:2] == ("one two", "x")
    jsonl = write(
        tmp_path, "a.jsonl", '{"text": "hi", "label": 3}\n\n{"text": "yo", "label": "b"}\n'
    )
    assert [(e.text, e.label, e.line) for e in read_examples(jsonl)] == [
        ("hi", "3", 1),
        ("yo", "b", 3),
    ]
    # texts only, for prediction
    assert read_examples(jsonl, label_col=None)[0].label is None


def test_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbftext,label\nhi,a\n")
    assert read_examples(path)[0].text == "hi"


@pytest.mark.parametrize(
    "name, content, kwargs, message",
    [
        ("a.csv", "txt,label\nhi,a\n", {}, r"a.csv, line 1: no column 'text'.*--text-col"),
        ("a.csv", "text,cls\nhi,a\n", {}, r"a.csv, line 1: no column 'label'.*--label-col"),
        ("a.csv", "text,label\nhi,a\n  ,b\n", {}, r"a.csv, line 3: empty text"),
        ("a.csv", "text,label\nhi,a\nyo,\n", {}, r"a.csv, line 3: no label"),
        ("a.csv", "label,text\na\n", {}, r"a.csv, line 2: 1 fields, but column 'text'"),
        ("a.tsv", b"text\tlabel\nhi\ta\n\xff\xfeb\tc\n", {}, r"a.tsv, line 3: bytes that are not"),
        ("a.jsonl", '{"text": "a", "label": 1}\n{"text": "b"\n', {}, r"a.jsonl, line 2: not valid"),
        ("a.jsonl", '{"text": "a"}\n', {}, r"a.jsonl, line 1: no key 'label'"),
        ("a.jsonl", '["a", 1]\n', {}, r"a.jsonl, line 1: a JSON object is needed"),
        ("a.jsonl", '{"text": 5, "label": 1}\n', {}, r"line 1: 'text' must be a string"),
        ("a.csv", "text,label\n", {}, r"a.csv: no examples"),
        ("a.txt", "text,label\n", {}, r"cannot tell the format.*--format"),
    ],
)
def test_errors_name_file_and_line(tmp_path, name, content, kwargs, message):
    path = write(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        read_examples(path, **kwargs)


def test_label_unseen_in_training(tmp_path):
    path = write(tmp_path, "valid.csv", "text,label\nhi,a\nyo,zzz\n")
    with pytest.raises(DataError, match=r"valid.csv, line 3: label 'zzz' never occurs .*train.csv"):
        check_labels(read_examples(path), ["a", "b"], path, "train.csv")


def test_format_option_overrides_the_suffix(tmp_path):
    assert guess_format(tmp_path / "x.txt", "tsv") == "tsv"
    assert guess_format(tmp_path / "x.JSONL") == "jsonl"
    with pytest.raises(DataError, match="unknown format 'xml'"):
        guess_format(tmp_path / "x.csv", "xml")


def test_a_header_naming_the_text_column_twice_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("text,label,text\nfine film,pos,other words\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"two.csv, line 1: the header names column 'text' 2"):
        read_examples(path)


def test_a_list_label_in_jsonl_is_named_a_list_not_missing(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text('{"text": "fine", "label": ["pos", "neg"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"l.jsonl, line 1: the label in 'label' is a list"):
        read_examples(path)


def test_tsv_output_fields_escape_tabs_and_line_breaks():
    from seqlab.data.labelled import tsv_field

    assert tsv_field("a\tb\nc\r\\d") == "a\\tb\\nc\\r\\\\d"
    assert "\t" not in tsv_field("x\ty") and "\n" not in tsv_field("x\ny")
