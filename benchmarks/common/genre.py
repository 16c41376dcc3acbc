"""GUM sentence genre as the classification benches use it: the sentences and their genre
(from each sent_id), CSV files of them, the scorer (accuracy, macro-F1), the seqlab command
rows (LMs made once and reused, classifiers, predict), fastText in the peers' venv, and the
TF-IDF + logistic-regression baseline."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from common.peers import Peers
from common.proc import THREADS, RowError, run


def sentences(path: Path) -> list[tuple[str, str]]:
    """(text, genre) of every sentence of a CoNLL-U file."""
    out, genre = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id = GUM_"):
            genre = line.split("GUM_", 1)[1].split("_", 1)[0]
        elif line.startswith("# text = "):
            out.append((line[len("# text = ") :], genre))
    return out


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def scores(true: list[str], pred: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(true, pred)),
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
    }


class Bench:
    def __init__(self, args, work: Path):
        self.args, self.work = args, work
        self.env = {**os.environ, **THREADS}
        self.lm_cpu: dict[str, float] = {}
        self.notes: dict[str, str] = {}  # LM name -> how it was made, when not by the command

    def seqlab(self, name: str, *cmd) -> float:
        """Run `python -m seqlab CMD` (log in work/logs/NAME.log); its CPU seconds."""
        rc, cpu, text = run(
            [sys.executable, "-m", "seqlab", *cmd], self.work / "logs" / f"{name}.log", self.env
        )
        if rc != 0:
            raise RowError(f"seqlab {cmd[0]} failed (exit {rc}): {text[-1500:]}")
        return cpu

    def lm(self, name: str, cmd: list) -> Path:
        """The LM run `work/NAME` made by `seqlab CMD --out work/NAME`, reused when the same
        command finished there before (its CPU seconds are remembered with it)."""
        out, stamp = self.work / name, self.work / f"{name}.done.json"
        cmd = [str(c) for c in [*cmd, "--device", "cpu", "--out", out]]
        inputs = inputs_key(cmd)
        if (
            stamp.is_file()
            and json.loads(stamp.read_text())["cmd"] == cmd
            and (json.loads(stamp.read_text()).get("inputs") == inputs)
        ):
            done = json.loads(stamp.read_text())
            self.lm_cpu[name] = done["cpu_s"]
            note = f"; {done['note']}" if done.get("note") else ""  # e.g. stopped early
            print(f"  reusing {out} ({self.lm_cpu[name]:.0f} CPU s{note})", flush=True)
            self.notes[name] = done.get("note", "")
            return out
        print(f"  seqlab {' '.join(cmd)}", flush=True)
        self.lm_cpu[name] = self.seqlab(name, *cmd)
        stamp.write_text(json.dumps({"cmd": cmd, "inputs": inputs, "cpu_s": self.lm_cpu[name]}))
        return out

    def classify(self, name: str, encoder: list, files: dict, seed: int) -> dict:
        """Fine-tune a classifier; its test scores, train CPU s, and its run dir."""
        out = self.work / "runs" / f"{name}-{seed}"
        # the row's own options last: click keeps the last value of an option given twice
        epochs = ["--epochs", self.args.epochs] if self.args.epochs else []  # else the default
        cmd = ["finetune", "classify", *epochs, "--seed", seed, *encoder]
        cmd += ["--train", files["train"], "--valid", files["valid"], "--test", files["test"]]
        cpu = self.seqlab(f"{name}-{seed}", *cmd, "--device", "cpu", "--out", out, "--overwrite")
        metrics = json.loads((out / "scores.json").read_text())["metrics"]
        return {**metrics, "train_cpu_s": cpu, "run": out}

    def predict(self, name: str, runs: list[Path], test: Path) -> tuple[list[str], float]:
        """Labels of `seqlab predict RUNS test.csv`, and texts per CPU second."""
        out = self.work / "runs" / f"{name}.jsonl"
        cmd = ["predict", *runs, test, "--format", "csv", "--json", "--device", "cpu"]
        cpu = self.seqlab(f"predict-{name}", *cmd, "--out", out, "--overwrite")  # a rerun's
        labels = [json.loads(line)["label"] for line in out.read_text().splitlines()]
        return labels, len(labels) / cpu


def fasttext_ready(peers: Peers, logs: Path) -> None:
    """fastText imports in the peers' venv, installed there (the `fasttext` binding from PyPI,
    else `fasttext-wheel`) if need be; RowError saying why not otherwise."""
    if peers.imports("fasttext"):
        return
    if not peers.python.exists():
        rc, _, text = run([sys.executable, "-m", "venv", peers.venv], logs / "venv.log")
        if rc != 0:
            raise RowError(f"`python -m venv {peers.venv}` failed: {text[-300:]}")
    for spec in ("fasttext", "fasttext-wheel"):
        rc, text = peers.pip(spec, log=logs / f"pip-{spec}.log")
        if rc == 0 and peers.imports("fasttext"):
            return
    raise RowError(
        f"pip install fasttext (or fasttext-wheel) failed in {peers.venv}: {text[-300:]} "
        f"(log: {logs}/pip-fasttext.log)"
    )


def lms_of(options: list[str]) -> list[str]:
    """The LMs a row's classifier reads, and those they were made from ((b) from (a))."""
    named = [o for o in options if o.startswith("lm-")]
    return list(
        dict.fromkeys(
            x for o in named for x in ([o.replace("-b-", "-a-"), o] if "-b-" in o else [o])
        )
    )


def inputs_key(cmd: list[str]) -> str:
    """What a reused LM must have been made from besides its command: the content of the files
    it read and, for --init, the stamp of the LM it started from (a retrained LM there makes
    every LM built on it stale)."""
    digest = hashlib.sha256()
    for arg, value in zip(cmd, [*cmd[1:], ""], strict=True):
        if Path(arg).is_file():
            digest.update(Path(arg).read_bytes())
        if arg == "--init":
            digest.update(Path(value).with_name(f"{Path(value).name}.done.json").read_bytes())
    return digest.hexdigest()


def tfidf(analyzer: str, ngrams: tuple[int, int], train, test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.process_time()
    clf = make_pipeline(
        TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    clf.fit([t for t, _ in train], [g for _, g in train])
    train_cpu = time.process_time() - start
    start = time.process_time()
    pred = list(clf.predict([t for t, _ in test]))
    tps = len(test) / max(time.process_time() - start, 1e-9)
    return {**scores([g for _, g in test], pred), "train_cpu_s": train_cpu, "texts_per_s": tps}
