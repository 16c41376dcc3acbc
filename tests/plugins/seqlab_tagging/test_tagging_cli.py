"""`seqlab finetune tag` and the tagger's `seqlab predict`, end to end with tiny LMs."""

import json

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab_human_numbers.roles import example

TINY = [
    "--epochs",
    "1",
    "--layers",
    "1",
    "--hidden",
    "16",
    "--emb-size",
    "16",
    "--bs",
    "16",
    "--bptt",
    "20",
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        r = run("pretrain", "human-numbers", *TINY, *extra, "--out", root / name)
        assert r.exit_code == 0, r.output
    return root / "fwd", root / "bwd"


def conll(path, numbers_lists):
    """A CoNLL file of numbers, BIO-tagged: each number a NUM span, commas O."""
    lines = []
    for numbers in numbers_lists:
        words, roles = example(numbers)
        prev = "SEP"
        for w, r in zip(words, roles, strict=True):
            tag = "O" if r == "SEP" else ("B-NUM" if prev == "SEP" else "I-NUM")
            lines.append(f"{w}\t{r}\t{tag}")
            prev = r
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_finetune_crf_both_directions_then_predict(lms, tmp_path):
    fwd, bwd = lms
    train = conll(tmp_path / "train.conll", [[i, i + 7, i + 300] for i in range(1, 400, 9)])
    valid = conll(tmp_path / "valid.conll", [[i, 2 * i] for i in range(2000, 2300, 30)])
    out = tmp_path / "tagger"
    r = run(
        "finetune",
        "tag",
        "--encoder",
        fwd,
        "--backward-encoder",
        bwd,
        "--train",
        train,
        "--valid",
        valid,
        "--crf",
        "--epochs",
        "3",
        "--bs",
        "8",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[2:6] == ["valid_loss", "f1", "precision", "recall"]  # BIO: span scores
    assert "per type (spans" in (out / "report.txt").read_text()
    best = json.loads((out / "best.json").read_text())
    assert best["head"]["config"]["crf"] is True
    assert [lm["backward"] for lm in best["encoder"]["lms"]] == [False, True]

    text = tmp_path / "in.txt"
    text.write_text("one thousand two , three\n\nnine\n", encoding="utf-8")
    r = run("predict", out, text)
    assert r.exit_code == 0, r.output
    blocks = r.output.split("\n\n")
    assert [
        line.split("\t")[0] for line in blocks[0].splitlines()
    ] == "one thousand two , three".split()
    assert all(line.split("\t")[1] in {"O", "B-NUM", "I-NUM"} for line in blocks[0].splitlines())
    assert blocks[1].split("\t")[0] == "nine" and blocks[2] == ""

    r = run("predict", out, valid, "--format", "conll")  # tags replace the input's last column
    assert r.exit_code == 0, r.output
    got = [line.split("\t") for line in r.output.splitlines() if line]
    given = [line.split("\t") for line in valid.read_text().splitlines() if line]
    assert [g[:2] for g in got] == [g[:2] for g in given] and len(got[0]) == 3

    words_only = tmp_path / "words"  # one word per line, no tag column, no suffix
    words_only.write_text("one\nthousand\n\ntwo\n", encoding="utf-8")
    r = run("predict", out, words_only, "--format", "conll")
    assert r.exit_code == 0, r.output
    assert [line.split(" ")[0] for line in r.output.splitlines()] == [
        "one",
        "thousand",
        "",
        "two",
        "",
    ]

    r = run("predict", out, "--text", "one thousand", "--format", "conllu")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].split("\t")[:2] == ["1", "one"]


def test_pretrained_forward_tagger_learns_conllu(lms, tmp_path):
    """CoNLL-U in, roles learned: better than tagging every word with the commonest role."""

    def conllu(path, numbers):
        lines = []
        for group in numbers:
            words, roles = example(group)
            lines += [
                f"{i}\t{w}\t_\t{r}\t_\t_\t_\t_\t_\t_"
                for i, (w, r) in enumerate(zip(words, roles, strict=True), start=1)
            ]
            lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    train = conllu(tmp_path / "train.conllu", [[i, i + 1, i + 2] for i in range(1, 4000, 37)])
    valid = conllu(tmp_path / "valid.conllu", [[i, i + 3] for i in range(5000, 6000, 53)])
    out = tmp_path / "tagger"
    r = run(
        "finetune",
        "tag",
        "--encoder",
        lms[0],
        "--train",
        train,
        "--valid",
        valid,
        "--epochs",
        "6",
        "--bs",
        "8",
        "--lr",
        "0.01",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    scores = json.loads((out / "scores.json").read_text())
    gold = [line.split("\t")[3] for line in valid.read_text().splitlines() if line]
    majority = max(gold.count(t) for t in set(gold)) / len(gold)
    assert scores["split"] == "valid"
    assert scores["metrics"]["accuracy"] > majority + 0.1
    accuracy = [float(row.split(",")[3]) for row in (out / "metrics.csv").read_text().split()[1:]]
    best = json.loads((out / "best.json").read_text())
    assert best["metrics"]["accuracy"] == pytest.approx(max(accuracy), abs=1e-6)  # best_by


def test_registered_dataset_runs(lms, tmp_path):
    r = run(
        "finetune",
        "tag",
        "human-numbers-roles",
        "--encoder",
        lms[0],
        "--epochs",
        "1",
        "--out",
        tmp_path / "roles",
    )
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "roles" / "scores.json").read_text())["split"] == "test"


def test_user_errors(lms, tmp_path):
    fwd, bwd = lms
    bad = tmp_path / "bad.conll"
    bad.write_text("one\tUNITS\ntwo\n", encoding="utf-8")
    good = conll(tmp_path / "good.conll", [[1, 2]])
    cases = [
        (["--encoder", fwd, "--train", bad, "--valid", good], f"{bad}:2: 1 column(s)"),
        (["--encoder", bwd, "--train", good, "--valid", good], "pass it as --backward-encoder"),
        (
            ["--encoder", fwd, "--backward-encoder", fwd, "--train", good, "--valid", good],
            "pass it as --encoder",
        ),
        (["--encoder", fwd, "--train", good], "give --valid FILE"),
        (["human-numbers-roles", "--encoder", fwd, "--train", good], "either DATASET"),
        (["nope", "--encoder", fwd], "unknown dataset 'nope'"),
        (
            ["--encoder", fwd, "--train", good, "--valid", good, "--word-col", "2"],
            "--word-col and --tag-col are both 2",
        ),
        (
            ["--encoder", fwd, "--train", tmp_path / "missing.conll", "--valid", good],
            "does not exist",
        ),
    ]
    unseen = conll(tmp_path / "unseen.conll", [[1000]])
    cases.append(
        (
            ["--encoder", fwd, "--train", good, "--valid", unseen],
            f"{unseen}:1: tag 'THOUSANDS' never occurs in --train",
        )
    )
    for args, message in cases:
        r = CliRunner().invoke(
            cli,
            ["finetune", "tag", *map(str, args), "--tag-col", "2", "--out", str(tmp_path / "x")],
        )
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (message, r.output)
        assert "Traceback" not in r.output


def test_predict_errors(lms, tmp_path):
    r = CliRunner().invoke(cli, ["predict", str(lms[0]), "--text", "one"])
    assert r.exit_code == 2 and "cannot predict" in r.output


def spelled_sentences(stems, seed):
    """Sentences of words whose tag shows only in their spelling: -ness NOUN, -ed VERB, -ly ADV,
    Capitalised PROPN, digits NUM, in random order (so neither position nor context helps)."""
    import random

    rng = random.Random(seed)
    kinds = {
        "NOUN": lambda s: s + "ness",
        "VERB": lambda s: s + "ed",
        "ADV": lambda s: s + "ly",
        "PROPN": lambda s: s.capitalize() + "ville",
        "NUM": lambda s: str(len(s) * 137),
    }
    out = []
    for _ in range(120):
        tags = rng.choices(list(kinds), k=rng.randint(3, 6))
        out.append([(kinds[t](rng.choice(stems)), t) for t in tags])
    return out


def write_conll(path, sentences):
    path.write_text("".join("".join(f"{w}\t{t}\n" for w, t in s) + "\n" for s in sentences))
    return path


def test_default_tagger_needs_no_lm_and_tags_unseen_words_by_their_spelling(tmp_path):
    train = write_conll(tmp_path / "train.conll", spelled_sentences(["dark", "kind", "soft"], 0))
    unseen = ["bold", "calm", "deep", "fair", "wild", "warm"]  # no valid word is a train word
    valid = write_conll(tmp_path / "valid.conll", spelled_sentences(unseen, 1))
    out = tmp_path / "tagger"
    r = run("finetune", "tag", "--train", train, "--valid", valid, "--epochs", "8", "--out", out)
    assert r.exit_code == 0, r.output
    train_words = {line.split("\t")[0] for line in train.read_text().splitlines() if line}
    valid_words = {line.split("\t")[0] for line in valid.read_text().splitlines() if line}
    assert not (valid_words - {str(n * 137) for n in range(3, 5)}) & train_words
    assert json.loads((out / "scores.json").read_text())["metrics"]["accuracy"] > 0.9
    best = json.loads((out / "best.json").read_text())
    assert best["encoder"]["lms"] == [] and best["encoder"]["features"] is not None


def test_char_lms_stack_with_a_word_lm_and_predict_needs_only_the_run(lms, tmp_path):
    char = ["--level", "char", *TINY[:-2], "--bptt", "40"]
    for name, extra in (("cfwd", []), ("cbwd", ["--backward"])):
        r = run("pretrain", "human-numbers", *char, *extra, "--out", tmp_path / name)
        assert r.exit_code == 0, r.output
    out = tmp_path / "stacked"
    r = run(
        "finetune",
        "tag",
        "human-numbers-roles",
        *("--encoder", lms[0], "--encoder", tmp_path / "cfwd"),
        *("--backward-encoder", tmp_path / "cbwd", "--epochs", "1", "--out", out),
    )
    assert r.exit_code == 0, r.output
    encoder = json.loads((out / "best.json").read_text())["encoder"]
    assert len(encoder["lms"]) == 1
    assert [c["lm"]["backward"] for c in encoder["char_lms"]] == [False, True]
    import shutil

    for name in ("cfwd", "cbwd"):
        shutil.rmtree(tmp_path / name)
    r = run("predict", out, "--text", "one thousand two , nine")
    assert r.exit_code == 0, r.output
    words = [line.split("\t")[0] for line in r.output.splitlines() if line]
    assert words == "one thousand two , nine".split()


def test_a_char_lm_is_refused_as_a_backward_word_lm(tmp_path):
    """(A classifier takes char LMs: tests/plugins/seqlab_classify/test_classify_chars.py.)"""
    lm = tmp_path / "clm"
    assert run("pretrain", "human-numbers", "--level", "char", *TINY, "--out", lm).exit_code == 0
    r = CliRunner().invoke(
        cli, ["finetune", "tag", "human-numbers-roles", "--backward-encoder", str(lm)]
    )
    assert r.exit_code == 2 and "pass it as --encoder" in r.output
