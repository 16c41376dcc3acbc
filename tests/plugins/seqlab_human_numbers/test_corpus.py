from seqlab import registry
from seqlab_human_numbers.corpus import SPLITS, export, tokens
from seqlab_human_numbers.numbers import text, words


def test_numbers_are_written_like_fastai():
    assert text(21) == "twenty one"
    assert text(305) == "three hundred five"
    assert text(9000) == "nine thousand"
    assert text(8001) == "eight thousand one"
    assert text(7119) == "seven thousand one hundred nineteen"
    assert all("and" not in words(n) and "-" not in text(n) for n in range(1, 10000))


def test_token_counts_match_the_course():
    corpus = registry.corpus("human-numbers")
    assert corpus.n_tokens("train") == 50_082
    assert corpus.n_tokens("valid") == 13_017


def test_vocab_is_fastai_v1s():
    vocab = registry.corpus("human-numbers").vocab
    assert len(vocab) == 38
    assert vocab.itos[:8] == [
        "xxunk",
        "xxpad",
        "xxbos",
        "xxfld",
        "xxmaj",
        "xxup",
        "xxrep",
        "xxwrep",
    ]
    assert vocab.stoi["xxbos"] == 2 and vocab.stoi[","] == 8
    assert vocab.itos[9] == "hundred"  # the most frequent word after ","
    # every word of the valid split is known
    valid = tokens(SPLITS["valid"])
    assert all(t in vocab for t in valid)


def test_each_split_is_one_document_starting_with_xxbos():
    corpus = registry.corpus("human-numbers")
    for split in ("train", "valid"):
        (doc,) = corpus.split(split)
        assert doc[0] == corpus.vocab.stoi["xxbos"]
    text_ = corpus.vocab.textify(corpus.split("train")[0][:12])
    assert text_ == "xxbos one , two , three , four , five , six"


def test_export_writes_one_number_per_line(tmp_path):
    paths = export(tmp_path)
    assert [p.name for p in paths] == ["train.txt", "valid.txt"]
    train = (tmp_path / "train.txt").read_text().splitlines()
    valid = (tmp_path / "valid.txt").read_text().splitlines()
    assert len(train) == 8000 and len(valid) == 1999
    assert train[0] == "one" and valid[0] == "eight thousand one" and valid[-1] == text(9999)
