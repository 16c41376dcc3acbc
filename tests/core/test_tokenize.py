"""Text files -> token cache: ids, documents, vocab, splits, the cache key, and bad input;
words, and characters (level="char")."""

import json
import re
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from seqlab import BPTTStream, Corpus, Vocab
from seqlab.data import chartokens
from seqlab.data import tokenize as tk
from seqlab.data.npyfile import NpyWriter, npy_header
from seqlab.data.textfiles import TextFileError, find_files, read_pieces
from seqlab.data.vocab import SPECIALS

S1 = tk.TextSettings(min_freq=1)


def quiet():
    return Console(file=open("/dev/null", "w"), force_terminal=False)  # noqa: SIM115


def build(tmp_path, files, valid=(), text_settings=S1, **kw):
    cache = tk.prepare(
        files,
        valid,
        text_settings,
        cache_root=tmp_path / "cache",
        console=kw.pop("console", quiet()),
        **kw,
    )
    return cache, tk.load(cache)


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_files_become_documents_of_ids_that_read_back_as_their_tokens(tmp_path):
    a = write(tmp_path / "a.txt", "The cat sat.\nThe dog, too!\n")
    b = write(tmp_path / "b.txt", "A cat ran.\n")
    c = write(tmp_path / "c.txt", "the end\n")
    cache, corpus = build(tmp_path, [a, b], valid=[c])
    train = corpus.split("train")[0]
    assert isinstance(train, np.memmap) and train.dtype == np.uint16
    assert corpus.vocab.textify(train) == ("xxbos The cat sat . The dog , too ! xxbos A cat ran .")
    # valid words never enter the vocab: "end" is unknown, "the" (lower case) too
    assert corpus.vocab.textify(corpus.split("valid")[0]) == "xxbos xxunk xxunk"
    assert corpus.vocab.itos[: len(SPECIALS)] == list(SPECIALS)
    # by count (these three twice), ties in string order
    assert corpus.vocab.itos[len(SPECIALS) : len(SPECIALS) + 3] == [".", "The", "cat"]
    meta = json.loads((cache / "meta.json").read_text())
    assert meta["splits"]["train"] == {"tokens": 15, "docs": 2, "unk": 0}


def test_doc_per_line_makes_each_non_blank_line_a_document(tmp_path):
    a = write(tmp_path / "a.txt", "one two\n\n  \nthree\r\nfour five six\n")
    _, corpus = build(
        tmp_path, [a], valid=[a], text_settings=tk.TextSettings(min_freq=1, doc_per_line=True)
    )
    text = corpus.vocab.textify(corpus.split("train")[0])
    assert text == "xxbos one two xxbos three xxbos four five six"


def test_without_valid_files_the_tail_from_a_line_start_is_held_out(tmp_path):
    lines = [f"line {i} word{i % 7}" for i in range(200)]
    a = write(tmp_path / "a.txt", "\n".join(lines) + "\n")
    cache, corpus = build(
        tmp_path, [a], text_settings=tk.TextSettings(min_freq=1, valid_fraction=0.1)
    )
    train = corpus.vocab.textify(corpus.split("train")[0]).split(" xxbos ")
    valid = corpus.vocab.textify(corpus.split("valid")[0])
    assert valid.startswith("xxbos line ")  # a new document, starting at a line start
    held = valid.count("line ")
    assert 15 <= held <= 25  # about a tenth of 200 lines
    assert len(train) == 1 and train[0].count("line ") == 200 - held


def test_vocab_cap_keeps_the_most_frequent_and_says_so(tmp_path):
    words = " ".join(f"w{i} " * (i + 1) for i in range(30))  # w29 is the most frequent
    a = write(tmp_path / "a.txt", words)
    out = tmp_path / "log.txt"
    with open(out, "w") as f:
        _, corpus = build(
            tmp_path,
            [a],
            valid=[a],
            console=Console(file=f, width=200),
            text_settings=tk.TextSettings(min_freq=3, max_vocab=len(SPECIALS) + 5),
        )
    assert corpus.vocab.itos[len(SPECIALS) :] == ["w29", "w28", "w27", "w26", "w25"]
    log = out.read_text()
    assert "--max-vocab 13" in log and "of 28 distinct tokens seen at least 3" in log
    unk = corpus.split("train")[0] == corpus.vocab.unk_idx
    assert unk.sum() == sum(range(1, 26))  # w0..w24, each i + 1 times


def test_a_vocab_above_65536_tokens_is_stored_as_uint32(tmp_path):
    a = write(tmp_path / "a.txt", " ".join(f"t{i}" for i in range(66_000)))
    _, corpus = build(
        tmp_path, [a], valid=[a], text_settings=tk.TextSettings(min_freq=1, max_vocab=100_000)
    )
    assert len(corpus.vocab) > 2**16
    train = corpus.split("train")[0]
    assert train.dtype == np.uint32 and corpus.vocab.itos[int(train[-1])] == "t65999"


def test_a_second_run_reuses_the_cache_and_the_key_follows_content_and_settings(tmp_path):
    a = write(tmp_path / "a.txt", "some words here\n")
    first, _ = build(tmp_path, [a], valid=[a])
    stamp = (first / "train.npy").stat().st_mtime_ns
    renamed = a.rename(tmp_path / "b.txt")
    again, _ = build(tmp_path, [renamed], valid=[renamed])
    assert again == first and (again / "train.npy").stat().st_mtime_ns == stamp
    other, _ = build(
        tmp_path,
        [renamed],
        valid=[renamed],
        text_settings=tk.TextSettings(min_freq=1, doc_per_line=True),
    )
    write(renamed, "some words there\n")
    changed, _ = build(tmp_path, [renamed], valid=[renamed])
    assert len({first, other, changed}) == 3
    assert not [p for p in (tmp_path / "cache" / "text").iterdir() if p.name.startswith(".")]


def test_a_binary_file_is_named_with_its_byte_offset_and_nothing_is_left_behind(tmp_path):
    good = write(tmp_path / "good.txt", "fine text\n")
    binary = write(tmp_path / "img.bin", b"GIF89a" + b"x" * 3000 + b"\x00\x01")
    with pytest.raises(
        TextFileError, match=r"img\.bin: looks binary \(NUL byte at byte offset 3006\)"
    ):
        build(tmp_path, [good, binary])
    assert list((tmp_path / "cache" / "text").iterdir()) == []


def test_bad_utf8_names_the_offset_even_across_read_blocks(tmp_path):
    raw = ("é" * 700).encode() + b"\xff tail\n"  # 1400 bytes of good text first
    bad = write(tmp_path / "latin1.txt", raw)
    with pytest.raises(TextFileError, match="latin1.txt: not UTF-8 at byte offset 1400"):
        for _ in read_pieces(bad, block=64):
            pass
    text = "".join(t for _, _, t in read_pieces(bad, errors="replace", block=64))
    assert text == "é" * 700 + "\ufffd tail\n"


def test_errors_replace_reads_bad_files_and_empty_files_are_skipped_with_a_warning(tmp_path):
    bad = write(tmp_path / "bad.txt", b"caf\xe9 ok\x00 more\n")
    empty = write(tmp_path / "empty.txt", b"")
    blank = write(tmp_path / "blank.txt", " \n\n\t\n")
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        _, corpus = build(
            tmp_path,
            [bad, empty, blank],
            valid=[bad],
            text_settings=tk.TextSettings(min_freq=1, errors="replace"),
            console=Console(file=f, width=300),
        )
    assert corpus.vocab.textify(corpus.split("train")[0]) == "xxbos caf \ufffd ok \ufffd more"
    assert "skipping empty file" in log.read_text() and "empty.txt" in log.read_text()
    assert "blank.txt: no text" in log.read_text()


def test_paths_directories_and_globs(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.txt", "d/a.txt", "d/sub/c.txt", "d/.hidden"):
        write(tmp_path / name, "x")
    assert [p.name for p in find_files([tmp_path / "d"])] == ["a.txt", "b.txt", "c.txt"]
    assert [p.name for p in find_files([f"{tmp_path}/d/**/c*.txt"], glob=True)] == ["c.txt"]
    with pytest.raises(FileNotFoundError, match="nope: no such file"):
        find_files([tmp_path / "nope"])
    with pytest.raises(FileNotFoundError, match="matches no file"):
        find_files([f"{tmp_path}/*.csv"], glob=True)


def test_the_cached_stream_feeds_bptt_batches_straight_from_the_memory_map(tmp_path):
    a = write(tmp_path / "a.txt", " ".join(f"w{i % 50}" for i in range(3000)))
    _, corpus = build(tmp_path, [a], valid=[a])
    mm = corpus.split("train")[0]
    from_map = list(BPTTStream([mm], bs=4, bptt=7))
    in_ram = list(BPTTStream([np.array(mm, dtype=np.int64)], bs=4, bptt=7))
    assert all(
        (x1 == x2).all() and (y1 == y2).all()
        for (x1, y1), (x2, y2) in zip(from_map, in_ram, strict=True)
    )


def test_npy_writer_makes_a_standard_npy_file(tmp_path):
    path = tmp_path / "x.npy"
    with NpyWriter(path, np.uint16) as w:
        w.append(np.arange(5))
        w.append(np.array([], dtype=np.int64))
        w.append(np.arange(3))
    assert np.load(path).tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert len(npy_header(np.dtype(np.uint32), 10**18, NpyWriter.HEADER)) == 128


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab é\n.", max_size=300), st.integers(1, 20), st.booleans())
def test_pieces_rebuild_the_file_and_end_at_a_break(tmp_path_factory, text, block, split_long):
    path = tmp_path_factory.mktemp("p") / "t.txt"
    path.write_text(text, encoding="utf-8", newline="")
    pieces = list(read_pieces(path, block=block, split_long_lines=split_long))
    assert "".join(t for _, _, t in pieces) == text
    assert sum(size for _, size, _ in pieces) == len(text.encode())
    breaks = "\n " if split_long else "\n"
    assert all(t[-1] in breaks for _, _, t in pieces[:-1])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(string.printable), max_size=200))
def test_tokens_are_the_words_and_punctuation_runs_of_the_text(text):
    assert tk.tokenize(text) == re.findall(r"\w+|[^\w\s]+", text)


# -- characters as tokens (level="char") -------------------------------------------------------

ALPHABET = "ab é\n.\t"


def char_vocab(text: str = ALPHABET) -> Vocab:
    return chartokens.build_vocab(chartokens.count([text]))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=300))
def test_characters_read_back_as_the_text_they_came_from(text):
    vocab = char_vocab()
    ids = chartokens.CharEncoder(vocab).encode(text)
    assert len(ids) == len(text) and chartokens.textify(vocab, ids) == text


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=100))
def test_characters_the_vocab_never_saw_are_xxunk(text):
    vocab = char_vocab()
    ids = chartokens.CharEncoder(vocab).encode(text)
    known = [c in ALPHABET for c in text]
    assert [i != vocab.unk_idx for i in ids] == known


def test_char_vocab_is_the_specials_then_characters_by_count_first_seen_first():
    vocab = chartokens.build_vocab(chartokens.count(["ba a\nb"]), max_vocab=len(SPECIALS) + 3)
    assert vocab.itos == [*SPECIALS, "b", "a", " "]  # b, a twice; " " before "\n": seen first


def test_a_char_cache_keeps_whitespace_and_newlines_and_marks_documents(tmp_path):
    a = write(tmp_path / "a.txt", "The cat.\n\n  \nA dog\n")
    settings_ = tk.TextSettings(min_freq=1, level="char")
    cache, corpus = build(tmp_path, [a], valid=[a], text_settings=settings_)
    train = corpus.split("train")[0]
    assert isinstance(train, np.memmap)
    assert chartokens.textify(corpus.vocab, train) == "xxbosThe cat.\n\n  \nA dog\n"
    per_line = tk.TextSettings(min_freq=1, level="char", doc_per_line=True)
    _, lines = build(tmp_path, [a], valid=[a], text_settings=per_line)
    text = chartokens.textify(lines.vocab, lines.split("train")[0])
    assert text == "xxbosThe cat.\nxxbosA dog\n"  # blank lines are no documents
    meta = json.loads((cache / "meta.json").read_text())
    assert meta["settings"]["level"] == "char" and meta["pre_tokenizer"] == "characters"
    word, _ = build(tmp_path, [a], valid=[a])
    assert word != cache  # the level is part of the cache key


def test_a_word_corpus_read_as_characters_joins_its_words_with_spaces():
    words = Vocab([*SPECIALS, "one", "two", ","])
    docs = [words.encode(["xxbos", "one", ",", "two"])]
    chars = chartokens.char_corpus(Corpus("w", words, {"train": docs, "valid": docs}))
    assert chartokens.textify(chars.vocab, chars.split("valid")[0]) == "xxbosone , two"


def test_a_char_lm_reads_crlf_line_ends_as_newlines():
    """A file saved on Windows must not teach a character LM "\\r" (issue 23): the word
    tokenizer and the labelled readers drop it, and so do the character counts and ids."""
    from seqlab.data import chartokens

    unix, windows = "one two\nthree\n", "one two\r\nthree\r\n"
    for per_line in (False, True):
        assert chartokens.count([windows], per_line) == chartokens.count([unix], per_line)
        vocab = chartokens.build_vocab(chartokens.count([unix], per_line))
        enc = chartokens.CharEncoder(vocab)
        got = enc.documents(windows, True, per_line)
        assert got.tolist() == enc.documents(unix, True, per_line).tolist()
    assert "\r" not in chartokens.count(["a\r\nb"])


def test_generated_characters_never_show_special_tokens_by_name():
    from seqlab.data.chartokens import untokenize

    tokens = ["a", "xxbos", "b", "xxwrep", "c", "xxrep", "\n", "xxbos", "d", "xxunk"]
    assert untokenize(tokens) == "a\nbc\nd\ufffd"
    assert untokenize(["xxbos", "x"]) == "x"
