"""Families `output-over-input` and `circular-states`: a command that writes (predict --out,
export, export-model) never replaces what it reads, a run's files or a user's file unasked;
after a run is killed at a random moment, --out and --resume lead somewhere (never to each
other)."""

from __future__ import annotations

import random
import shutil
import time

from faults.fixtures import Fixtures, scratch_copy
from faults.harness import Tally, invoke, judge, seqlab_process, snapshot


def fam_output_over_input(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    d = fx.root / "writes"
    d.mkdir(exist_ok=True)
    clf, data = fx.get("clf"), fx.get("data")
    texts, mine = d / "in.txt", d / "mine.tsv"
    texts.write_text("good movie\nbad film\n")
    mine.write_text("my notes\n")
    (d / "export").mkdir(exist_ok=True)
    (d / "export" / "train.txt").write_text("my own train.txt\n")
    run_files = sorted(p for p in clf.iterdir() if p.is_file())
    cases = [  # (description, command, what it must say, files it must leave as they are)
        ("predict --out INPUT", ["predict", clf, texts, "--out", texts, "--overwrite"],
         "which this command reads", [texts]),
        ("predict --out an existing file", ["predict", clf, texts, "--out", mine],
         "--overwrite", [mine]),
        ("predict --out --train's file", ["predict", clf, texts, "--out", data / "train.csv"],
         "--overwrite", [data / "train.csv"]),
        ("export into a folder with a train.txt", ["export", "human-numbers", d / "export"],
         "--overwrite", [d / "export" / "train.txt"]),
        ("export-model RUN RUN/model", ["export-model", clf, clf / "model", "--overwrite"],
         "which this command reads", run_files),
    ]  # fmt: skip
    for f in rng.sample(run_files, min(len(run_files), 2 if fx.quick else n)):
        into_run = ["predict", clf, texts, "--out", f, "--overwrite"]
        cases.append((f"predict --out RUN/{f.name}", into_run, "", run_files))
    model = fx.get("model-dir")
    other = scratch_copy(model, fx.root)
    cases.append(("export-model over another export", ["export-model", fx.get("tagger"), other],
                  "--overwrite", sorted(other.iterdir())))  # fmt: skip
    for desc, args, says, kept in cases:
        before = snapshot(kept)
        result = invoke(*args)
        t.add(judge(result, says, before), desc, result.output[-300:])
    shutil.rmtree(other, ignore_errors=True)


def fam_circular_states(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Kill a fine-tuning run at a random moment of its start; whatever it left, --out and
    --resume each give advice that works (followed here), never one pointing to the other."""
    data = fx.get("data")
    args = ["finetune", "classify", "--from-scratch", "--train", data / "train.csv"]
    args += ["--valid", data / "valid.csv", "--epochs", "2", "--hidden", "16", "--lin", "8"]
    for trial in range(2 if fx.quick else n):
        run = fx.root / f"circular-{trial}"
        proc = seqlab_process(*args, "--out", run)
        while not run.exists() and proc.poll() is None:  # its start: Python, torch, seqlab
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 3.0))  # then anywhere in reading data, training, saving
        proc.kill()
        proc.communicate()
        desc = f"killed at trial {trial}"
        if not run.exists():
            t.add("ok", f"{desc}: killed before it made its run directory")
            continue
        again = invoke(*args, "--out", run)
        resume = invoke("finetune", "classify", "--resume", run)
        if again.kind == "ok" or resume.kind == "ok":  # it took one of them: fine
            t.add(judge(again if again.kind == "ok" else resume, None), desc)
        elif "--resume" in again.output and "--overwrite" not in again.output + resume.output:
            t.add("wrong", f"{desc}: --out and --resume point to each other", again.output[-300:])
        else:
            follow = invoke(*args, "--out", run, "--overwrite")
            t.add(judge(follow, None), f"{desc}: --overwrite as advised", follow.output[-300:])
        shutil.rmtree(run, ignore_errors=True)
    done = fx.get("clf")
    before = snapshot(sorted(p for p in done.iterdir() if p.is_file()))
    result = invoke("finetune", "classify", "--resume", done)
    outcome = judge(result, None, before)
    if outcome == "ok" and "complete" not in result.output:
        outcome = "wrong"  # a silent exit 0 says nothing of what to do next
    t.add(outcome, "--resume of a finished run", result.output[-300:])
