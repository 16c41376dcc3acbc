"""Named entities end to end: a span tag set trains the constrained CRF by default, the report
gives per-type scores, `seqlab predict --entities` and `Predictor.predict(entities=True)` give
entities with offsets, and bad tag files are one line each."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import seqlab
from seqlab.cli.main import cli
from seqlab_tagging import schemes

EXAMPLES = Path(__file__).parents[3] / "examples"
QUICK = ["--epochs", "4", "--bs", "8", "--context", "32"]


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def ner(tmp_path_factory):
    out = tmp_path_factory.mktemp("ner") / "run"
    r = run(
        "finetune", "tag", "--train", EXAMPLES / "train.conll", "--valid", EXAMPLES / "dev.conll",
        *QUICK, "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return out


def test_span_tags_train_the_constrained_crf_by_default(ner):
    head = json.loads((ner / "best.json").read_text())["head"]["config"]
    assert head["crf"] is True and head["constrained"] is True
    header = (ner / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header.index("f1") < header.index("accuracy")  # span F1 is the headline


def test_scores_json_has_per_type_span_scores(ner):
    metrics = json.loads((ner / "scores.json").read_text())["metrics"]
    assert {"f1", "precision", "recall", "per_type"} <= set(metrics)
    assert set(metrics["per_type"]) == {"PER", "LOC", "ORG"}
    gold = [t for t in (EXAMPLES / "dev.conll").read_text().split() if t.startswith("B-PER")]
    assert metrics["per_type"]["PER"]["support"] == len(gold)
    assert 0 <= metrics["per_type"]["LOC"]["f1"] <= 1
    assert metrics["f1"] > 0.5  # the sample's patterns are learnt in a few epochs
    assert "per type (spans" in (ner / "report.txt").read_text()


def test_no_crf_still_gives_a_softmax_tagger(tmp_path):
    out = tmp_path / "soft"
    r = run(
        "finetune", "tag", "--train", EXAMPLES / "train.conll", "--valid", EXAMPLES / "dev.conll",
        "--epochs", "1", "--no-crf", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads((out / "best.json").read_text())["head"]["config"]["crf"] is False


def test_predict_entities_from_raw_text(ner, tmp_path):
    text = "Anna Smith works for Acme in Paris. Later, Omar met Lena in Oslo.\n"
    text += "In Lima, Kofi met Mei.\n"
    (tmp_path / "news.txt").write_text(text)
    r = run("predict", ner, tmp_path / "news.txt", "--entities")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [row["line"] for row in rows] == [1, 1, 2]  # the paragraph's two sentences
    assert rows[0]["words"][-2:] == ["Paris", "."]
    found = []
    for row in rows:
        line = text.splitlines()[row["line"] - 1]
        assert row["text"] == line
        for e in row["entities"]:
            assert line[e["start_char"] : e["end_char"]] == e["text"]
            assert " ".join(row["words"][e["start"] : e["end"]]) == e["text"]
            assert 0 < e["score"] <= 1
            found.append((e["text"], e["type"]))
    assert ("Oslo", "LOC") in found and ("Kofi", "PER") in found


def test_predict_entities_from_conll_input(ner):
    r = run("predict", ner, EXAMPLES / "dev.conll", "--entities")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 20
    for row in rows:
        assert row["text"] == " ".join(row["words"])
        for e in row["entities"]:
            assert row["text"][e["start_char"] : e["end_char"]] == e["text"]


def test_entities_with_a_format_is_refused(ner):
    r = run("predict", ner, EXAMPLES / "dev.conll", "--entities", "--format", "conll")
    assert r.exit_code == 2 and "--entities writes JSON lines: drop --format" in r.output


def test_every_predicted_sequence_is_valid_bio(ner, tmp_path):
    r = run("predict", ner, EXAMPLES / "dev.conll", "--json")
    assert r.exit_code == 0, r.output
    for line in r.output.splitlines():
        assert schemes.is_valid(json.loads(line)["tags"], schemes.BIO)


def test_facade_gives_the_same_entities(ner):
    tagger = seqlab.load(ner)
    got = tagger.predict(["Anna Smith works for Acme in Paris. Omar met Lena.", ["in", "Oslo"]],
                         entities=True)  # fmt: skip
    first = got[0]
    assert first["words"][:2] == ["Anna", "Smith"] and len(first["tags"]) == len(first["words"])
    text = "Anna Smith works for Acme in Paris. Omar met Lena."
    for e in first["entities"]:
        assert text[e["start_char"] : e["end_char"]] == e["text"]
        assert " ".join(first["words"][e["start"] : e["end"]]) == e["text"]
    assert [e["start"] for e in first["entities"]] == sorted(e["start"] for e in first["entities"])
    assert all(0 < e["score"] <= 1 for e in first["entities"])
    assert "entities" in got[1] and "entities" not in tagger.predict("in Oslo")


def test_a_pos_tagger_asked_for_entities_is_one_line(tmp_path):
    out = tmp_path / "pos"
    r = run(
        "finetune", "tag", "--train", EXAMPLES / "train.conllu", "--valid", EXAMPLES / "dev.conllu",
        "--epochs", "1", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads((out / "best.json").read_text())["head"]["config"]["crf"] is False
    r = run("predict", out, "--text", "the dog sees a boat .", "--entities")
    assert r.exit_code == 2
    assert "not BIO/BIOES span tags" in r.output and len(r.output.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="not BIO/BIOES span tags"):
        seqlab.load(out).predict("the dog", entities=True)


BAD = {
    "mixed": ("a\tS-PER\nb\tO\n\nc\tB-LOC\nd\tO\n", 4, "ends an entity, as BIO writes it"),
    "no type": ("a\tB-PER\nb\tO\n\nc\tO\nd\tI-\n", 5, "tag 'I-' has no type"),
    "numbers": ("a\t1\nb\t2\n\nc\t3\n", 1, "holds numbers"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_tag_column_is_one_line_naming_file_and_line(case, tmp_path):
    text, line, message = BAD[case]
    train = tmp_path / "train.conll"
    train.write_text(text)
    r = run("finetune", "tag", "--train", train, "--valid", train, "--out", tmp_path / "run")
    assert r.exit_code == 2
    assert f"train.conll:{line}: " in r.output and message in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (tmp_path / "run").exists()


def test_valid_in_another_scheme_than_train_is_refused(tmp_path):
    (tmp_path / "t.conll").write_text("a\tB-PER\nb\tI-PER\nc\tE-PER\nd\tO\n")
    (tmp_path / "v.conll").write_text("a\tB-PER\nb\tI-PER\nc\tO\n")  # BIO: all known tags
    r = run("finetune", "tag", "--train", tmp_path / "t.conll", "--valid", tmp_path / "v.conll",
            "--out", tmp_path / "run")  # fmt: skip
    assert r.exit_code == 2 and "v.conll: tags in BIO, --train in BIOES" in r.output


def test_learnt_in_bioes_written_in_the_files_bio(tmp_path):
    out = tmp_path / "bioes"
    r = run(
        "finetune", "tag", "--train", EXAMPLES / "train.conll", "--valid", EXAMPLES / "dev.conll",
        *QUICK, "--scheme", "BIOES", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "best.json").read_text())
    assert "S-PER" in meta["head"]["config"]["tags"] and meta["tag_data"]["scheme"] == "BIO"
    report = (out / "report.txt").read_text()
    assert "B-PER" in report and "S-PER" not in report  # scored in the file's scheme
    r = run("predict", out, EXAMPLES / "dev.conll", "--json")
    assert r.exit_code == 0, r.output
    tags = [t for line in r.output.splitlines() for t in json.loads(line)["tags"]]
    assert "B-PER" in tags and not {t[0] for t in tags} & {"E", "S"}
    got = seqlab.load(out).predict([["in", "Oslo", ",", "Anna", "met", "Kofi", "."]])[0]
    assert schemes.is_valid(got["tags"], schemes.BIO) and "B-PER" in got["tags"]
