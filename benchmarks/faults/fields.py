"""Families `malformed-fields` and `special-files`: fields that are blank, doubled, of the
wrong type or full of tabs, and inputs that are not plain files (a directory, a FIFO, a
symlink loop, empty stdin, a missing --out folder). Each either works as a plain file would or
is one line saying what it is; nothing silently wrong."""

from __future__ import annotations

import random

from faults.fixtures import Fixtures
from faults.harness import Tally, fed_fifo, invoke, judge


def fam_malformed_fields(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    d = fx.root / "fields"
    d.mkdir(exist_ok=True)
    data = fx.get("data")
    lines = (data / "train.conll").read_text().splitlines()
    for trial in range(1 if fx.quick else n):  # trailing tabs or spaces on random lines
        every = rng.randint(2, 6)
        tail = rng.choice(["\t", " ", "\t\t", " \t"])
        edited = [ln + tail if ln and i % every == 0 else ln for i, ln in enumerate(lines)]
        train = d / f"trailing-{trial}.conll"
        train.write_text("\n".join(edited) + "\n")
        out = d / f"tag-{trial}"
        args = ["finetune", "tag", "--train", train, "--valid", data / "valid.conll"]
        result = invoke(*args, "--epochs", "1", "--quiet", "--out", out)
        outcome = judge(result, None)
        config = (out / "config.json").read_text() if (out / "config.json").exists() else ""
        if outcome == "ok" and '""' in config:  # an empty tag learned: silently wrong
            outcome = "wrong"
        t.add(outcome, f"trailing {tail!r} on every {every}th line", result.output[-300:])
    csvs = {
        "two text columns": "text,text,label\na,b,pos\n",
        "a list label (JSONL)": None,
        "an empty label": "text,label\ngood movie,\n",
    }
    for desc, text in csvs.items():
        path = d / ("bad.jsonl" if text is None else "bad.csv")
        path.write_text('{"text": "good", "label": ["pos"]}\n' if text is None else text)
        args = ["finetune", "classify", "--from-scratch", "--train", path, "--epochs", "1"]
        result = invoke(*args, "--out", d / "clf")
        t.add(judge(result, path.name), desc, result.output[-300:])
    texts = d / "tabs.txt"  # a text with a tab: one row per text, all of the same columns
    texts.write_text("good\tmovie\nbad film\n")
    result = invoke("predict", fx.get("clf"), texts)
    rows = [r.split("\t") for r in result.output.splitlines() if r]
    ok = judge(result, None) == "ok" and len(rows) == 2 and len({len(r) for r in rows}) == 1
    t.add("ok" if ok else judge(result, None) if result.kind != "ok" else "wrong",
          "a tab inside a text, TSV out", result.output[-300:])  # fmt: skip


def fam_special_files(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    d = fx.root / "special"
    d.mkdir(exist_ok=True)
    clf = fx.get("clf")
    loop_a, loop_b = d / "loop-a", d / "loop-b"
    if not loop_a.is_symlink():
        loop_a.symlink_to(loop_b)
        loop_b.symlink_to(loop_a)
    cases = [
        ("a directory as INPUT", ["predict", clf, d], {}, "a directory"),
        ("a symlink loop as INPUT", ["predict", clf, loop_a], {}, "loop"),
        ("empty stdin", ["predict", clf, "-"], {"input": ""}, "nothing to predict"),
        ("--out in a missing folder", ["predict", clf, "--text", "good", "--out",
                                       d / "nope" / "p.tsv"], {}, "nope"),
    ]  # fmt: skip
    for desc, args, kw, says in cases:
        result = invoke(*args, **kw)
        outcome = judge(result, says)
        if outcome == "one-line" and ".tmp" in result.output:
            outcome = "wrong"  # a hidden temporary file named instead of the user's
        t.add(outcome, desc, result.output[-300:])
    with fed_fifo(d / "texts.fifo", "good movie\nbad film\n") as fifo:
        result = invoke("predict", clf, fifo)
    rows = [r for r in result.output.splitlines() if r]
    outcome = judge(result, None)
    t.add("wrong" if outcome == "ok" and len(rows) != 2 else outcome, "a FIFO as INPUT",
          result.output[-300:])  # fmt: skip
