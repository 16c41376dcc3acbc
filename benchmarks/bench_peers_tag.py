"""GUM UPOS tagging, side by side in one run: most frequent tag, spaCy 3, flair, seqlab.

A benchmark script, not part of the pytest suite (it trains for up to an hour, installs the
peers into their own virtual environment and needs ../shared/data). Every row is trained from
scratch here; nothing is downloaded but the peers' packages from PyPI.

Data (UD English GUM, CC BY-NC-SA 4.0, ../shared/data/ud-gum, 17 UPOS tags):
  train    = en_gum-ud-dev.conllu minus its last 10% of sentences
  held-out = those last 10% (validation / model selection for every tool)
  test     = en_gum-ud-test.conllu
written as CoNLL-U files into the work dir without multi-word token lines (3-4) and empty
nodes (5.1), so that every tool reads the same words. Unlabelled text for the language models:
../shared/data/english-text (0.92M words; WikiText-2 valid+test and Gutenberg books).

Rows (--rows picks some, by key):
  mft             most frequent training tag per word (unseen words: the commonest tag), here
  spacy           spaCy 3 from scratch: `spacy init config -p tagger -o efficiency`, `spacy
                  convert`, `spacy train` with held-out as dev (peers/spacy_tag.py)
  flair-char      flair SequenceTagger (BiLSTM-CRF), CharacterEmbeddings + OneHotEmbeddings,
                  flair's ModelTrainer, dev = held-out (peers/flair_tag.py)
  flair-lm        the same tagger on FlairEmbeddings (+ one-hot words) of a forward and a
                  backward character LM that flair's own LanguageModelTrainer trains on
                  english-text (peers/flair_lm.py): --char-* size (default: seqlab's char LM's),
                  --char-lm-budget CPU s each
  seqlab-*        the `seqlab` command lines of SEQLAB_LMS / SEQLAB_ROWS below (edit them to
                  add rows); a command this seqlab does not have yet (a usage error) prints a
                  one-line message instead of its row

spaCy and flair are never seqlab dependencies: they are pip-installed into their own virtual
environment (--peers-venv, default ~/.cache/seqlab-bench/peers-venv, reused when it imports
them; CPU torch first, --peers-torch) and run there as subprocesses. A failed install or peer
run prints one line instead of its row, and the bench goes on.

Columns: test token accuracy, accuracy on test words whose form never occurs in train, train
CPU seconds, LM pretraining CPU seconds (once per LM, shared by the seeds and the rows that use
it), predict words/s (test words / CPU seconds of tagging them, model loading excluded).
Accuracy is computed here, the same way for every row, from each tool's predicted test tags.
Everything runs on one thread (OMP_NUM_THREADS=1, torch.set_num_threads(1); spaCy is single
threaded). CPU seconds are getrusage / process_time, so other jobs on the machine do not count:
  mft         this process's CPU time for counting / tagging
  spacy       the `spacy train` process; predict: `nlp.pipe` over the test Docs
  flair-*     ModelTrainer.train (embeddings of the LMs included); predict: tagger.predict
  seqlab-*    the whole `seqlab finetune tag` process (start, training, scoring --test);
              predict: `seqlab predict RUN test.conllu` minus the same on one sentence
  LMs         the whole `seqlab pretrain` process; flair_lm.py's process (corpus layout
              included)

Runs and logs go to --work (default ~/.cache/seqlab-bench/peers-tag; logs/ has one log per
command). An LM is reused from --work when the very same command finished there before, with
the CPU seconds it took then (--fresh retrains; --lms-only only pretrains). --jobs N runs N
commands at a time (rows that need no LM first, then the LMs, then the rows on them); the CPU
seconds stay each command's own (wait4), though commands side by side slow each other a little.

    nice -n 10 python benchmarks/bench_peers_tag.py --quick            # plumbing, minutes
    nice -n 10 python benchmarks/bench_peers_tag.py [--rows mft,spacy,...] [--seeds N]
        [--jobs 2] [--skip-flair-lm] [--char-lm-budget 1430] [--seqlab-lm-epochs 1]
        [--flair-epochs 20] [--out benchmarks/results/peers_tag.md] [--work DIR]

writes the markdown table to --out (also while running: the rows done so far) and everything
measured to the same name with .json. `--merge A.json B.json --out X.md` makes one table of
several runs (a row rerun later, after a fix, replaces the earlier one; each row names its run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
sys.path.insert(0, str(PEERS))
import peer_io  # noqa: E402  (benchmarks/peers/peer_io.py: the CoNLL-U reader every row shares)

SHARED = HERE.parents[1] / "shared" / "data"
GUM = SHARED / "ud-gum"
TEXT_DIR = SHARED / "english-text"
TEXT_FILES = ("wikitext-2-valid.txt", "wikitext-2-test.txt", "gutenberg-books.txt")

# ---------------------------------------------------------------------------------------------
# seqlab rows. Each is a `seqlab` command line as a user types it (run as `python -m seqlab`).
# Placeholders: {text} = the english-text files; {text_glob} = their folder's '*.txt' --glob;
# {lm:NAME} = the run dir of SEQLAB_LMS[NAME]
# (pretrained once, when a chosen row needs it); {lm_epochs} = the command-line option.
# Every finetune row gets `--train --valid --test --seed --device cpu --out` appended (and
# `--epochs 1` with --quick); every pretrain gets `--device cpu --cache-dir --out`.
# A row whose run's config.json does not record each LM it was given (e.g. a seqlab that keeps
# only the last of repeated --encoder options) prints a message instead of a row.
SEQLAB_LMS = {
    "word-fwd": ["pretrain", "{text}", "--epochs", "{lm_epochs}"],
    "word-bwd": ["pretrain", "{text}", "--epochs", "{lm_epochs}", "--backward"],
    # character LMs: `--level char` as a new user types it (hidden 512, 3 epochs; docs/char-lm.md)
    # and on the folder as docs/char-lm.md reads it: 'english-text/*.txt' --glob
    "char-fwd": ["pretrain", "{text_glob}", "--level", "char"],
    "char-bwd": ["pretrain", "{text_glob}", "--level", "char", "--backward"],
}  # fmt: skip
SEQLAB_ROWS = [  # key, name, finetune command
    # the default tagger: no pretrained LM (a seqlab where --encoder is required: a message)
    ("seqlab-default", "seqlab default", ["finetune", "tag"]),
    (
        "seqlab-char",
        "seqlab, char LMs fwd+bwd",
        ["finetune", "tag", "--encoder", "{lm:char-fwd}", "--backward-encoder", "{lm:char-bwd}"],
    ),
    (
        "seqlab-word",
        "seqlab, word LMs fwd+bwd",
        ["finetune", "tag", "--encoder", "{lm:word-fwd}", "--backward-encoder", "{lm:word-bwd}"],
    ),
    (
        "seqlab-stacked",
        "seqlab, char + word LMs stacked, fwd+bwd",
        ["finetune", "tag", "--encoder", "{lm:char-fwd}", "--encoder", "{lm:word-fwd}",
         "--backward-encoder", "{lm:char-bwd}", "--backward-encoder", "{lm:word-bwd}"],
    ),
]  # fmt: skip
PEER_ROWS = [
    ("mft", "most frequent tag per word"),
    ("spacy", "spaCy 3 tagger, efficiency config, from scratch"),
    ("flair-char", "flair BiLSTM-CRF, CharacterEmbeddings + one-hot words"),
    ("flair-lm", "flair BiLSTM-CRF, FlairEmbeddings fwd+bwd (own char LMs) + one-hot words"),
]
ROWS = PEER_ROWS + [(key, name) for key, name, _ in SEQLAB_ROWS]
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


class RowError(Exception):
    """A row that cannot be measured; its message replaces the row."""


_print = threading.Lock()


def say(msg: str) -> None:
    with _print:
        print(msg, flush=True)


def run(cmd: list, log: Path, env: dict | None = None) -> tuple[int, float, str]:
    """Run cmd with stdout+stderr to log; (exit code, its CPU seconds, the log's text). The
    CPU seconds are the child's own (and its children's), from wait4: exact even while other
    commands of this bench run at the same time (--jobs)."""
    cmd = [str(c) for c in cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.kill()
            p.wait()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    return p.returncode, usage.ru_utime + usage.ru_stime, text


def last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("Error:") or "Error" in ln.split(":")[0]:
            return ln[:300]
    return lines[-1][:300] if lines else "(no output)"


def is_usage_error(rc: int, text: str) -> bool:
    """click's usage errors: exit 2, 'Usage: ...' and 'Error: ...'."""
    return rc == 2 and "Usage:" in text and "Error:" in text


# --------------------------------------------------------------------------------- data ----
def blocks(path: Path) -> list[list[str]]:
    out, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def words_only(block: list[str]) -> list[str]:
    """A CoNLL-U sentence without multi-word token lines (3-4) and empty nodes (5.1)."""
    keep = []
    for line in block:
        if not line.startswith("#"):
            ident = line.split("\t", 1)[0]
            if "-" in ident or "." in ident:
                continue
        keep.append(line)
    return keep


def upos(sentence: list[str]) -> list[str]:
    return [ln.split("\t")[3] for ln in sentence if not ln.startswith("#")]


def write_conllu(path: Path, sentences: list[list[str]]) -> Path:
    path.write_text("".join("\n".join(s) + "\n\n" for s in sentences), encoding="utf-8")
    return path


def make_splits(work: Path, quick: bool) -> dict:
    dev = [words_only(b) for b in blocks(GUM / "en_gum-ud-dev.conllu")]
    test = [words_only(b) for b in blocks(GUM / "en_gum-ud-test.conllu")]
    n_held = len(dev) // 10
    train, held = dev[: len(dev) - n_held], dev[len(dev) - n_held :]
    if quick:  # held-out and test sentences with tags the 60 train sentences have
        train = train[:60]
        known = {t for s in train for t in upos(s)}
        held = [s for s in held if set(upos(s)) <= known][:20]
        test = [s for s in test if set(upos(s)) <= known][:50]
    files = {
        "train": write_conllu(work / "train.conllu", train),
        "heldout": write_conllu(work / "heldout.conllu", held),
        "test": write_conllu(work / "test.conllu", test),
        "test1": write_conllu(work / "test-first-sentence.conllu", test[:1]),
    }
    return files


def text_files(work: Path, quick: bool) -> list[Path]:
    files = [TEXT_DIR / f for f in TEXT_FILES]
    if not quick:
        return files
    out = []
    for f in files:  # the first 40 kB of each, cut at a line end
        head = f.read_text(encoding="utf-8")[:40_000]
        q = work / "text" / f.name
        q.parent.mkdir(parents=True, exist_ok=True)
        q.write_text(head[: head.rfind("\n") + 1], encoding="utf-8")
        out.append(q)
    return out


# -------------------------------------------------------------------------------- scoring ---
class Gold:
    def __init__(self, files: dict):
        self.train = peer_io.read_conllu(str(files["train"]))
        self.held = peer_io.read_conllu(str(files["heldout"]))
        self.test = peer_io.read_conllu(str(files["test"]))
        self.seen = {w for ws, _ in self.train for w in ws}
        self.n_test = sum(len(ws) for ws, _ in self.test)
        self.n_unseen = sum(w not in self.seen for ws, _ in self.test for w in ws)
        self.n_test1 = len(self.test[0][0])

    def score(self, pred: list[list[str]]) -> tuple[float, float]:
        """Token accuracy on test, and on the test words never seen in train."""
        if len(pred) != len(self.test) or any(
            len(p) != len(ws) for p, (ws, _) in zip(pred, self.test, strict=True)
        ):
            raise RowError("its predictions do not line up with the test sentences")
        right = right_unseen = 0
        for p, (ws, ts) in zip(pred, self.test, strict=True):
            for pt, w, t in zip(p, ws, ts, strict=True):
                right += pt == t
                right_unseen += pt == t and w not in self.seen
        return right / self.n_test, right_unseen / max(self.n_unseen, 1)


def read_tag_lines(path: Path) -> list[list[str]]:
    """A predictions file: one tag a line, a blank line between sentences."""
    return [[line.strip() for line in block] for block in blocks(path)]


# ---------------------------------------------------------------------------------- rows ----
def most_frequent_tag(gold: Gold) -> dict:
    start = time.process_time()
    counts: dict[str, Counter] = defaultdict(Counter)
    for ws, ts in gold.train:
        for w, t in zip(ws, ts, strict=True):
            counts[w][t] += 1
    commonest = Counter(t for _, ts in gold.train for t in ts).most_common(1)[0][0]
    best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    train_cpu = time.process_time() - start
    start = time.process_time()
    pred = [[best.get(w, commonest) for w in ws] for ws, _ in gold.test]
    predict_cpu = time.process_time() - start
    acc, unseen = gold.score(pred)
    return dict(
        acc=acc,
        unseen=unseen,
        train_cpu_s=train_cpu,
        predict_wps=gold.n_test / max(predict_cpu, 1e-9),
        unseen_tag=commonest,
    )


class Peers:
    """The peers' virtual environment: created and filled once, reused when it imports them."""

    def __init__(self, args, logs: Path):
        self.venv, self.args, self.logs = args.peers_venv, args, logs
        self.python = self.venv / "bin" / "python"
        self.status: dict[str, str | None] = {}  # package -> None (ok) or why not
        self.lock = threading.Lock()

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(THREADS, PYTHONNOUSERSITE="1", TOKENIZERS_PARALLELISM="false")
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def imports(self, module: str) -> bool:
        if not self.python.exists():
            return False
        done = subprocess.run(
            [str(self.python), "-c", f"import {module}"], env=self.env(), capture_output=True
        )
        return done.returncode == 0

    def pip(self, *spec: str, log: Path) -> tuple[int, str]:
        rc, _, text = run([self.python, "-m", "pip", "install", *spec], log, self.env())
        return rc, text

    def need(self, package: str) -> None:
        """Make sure `package` (spacy or flair) imports in the venv; RowError if it cannot."""
        with self.lock:
            if package not in self.status:
                why = self._install(package)
                self.status[package] = (
                    None if why is None else f"{why} (log: {self.logs}/pip-{package}.log)"
                )
        if self.status[package]:
            raise RowError(self.status[package])

    def _install(self, package: str) -> str | None:
        if self.imports(package):
            return None
        if not self.python.exists():
            say(f"  creating the peers' virtual environment {self.venv}")
            self.venv.parent.mkdir(parents=True, exist_ok=True)
            rc, _, text = run([sys.executable, "-m", "venv", self.venv], self.logs / "venv.log")
            if rc != 0:
                return f"`python -m venv {self.venv}` failed: {last_error(text)}"
        if not self.imports("torch"):
            say(f"  pip install {self.args.peers_torch} (CPU torch, for flair) ...")
            rc, text = self.pip(self.args.peers_torch, log=self.logs / "pip-torch.log")
            if rc != 0:
                return f"pip install {self.args.peers_torch} failed: {last_error(text)}"
        say(f"  pip install {package} ...")
        rc, text = self.pip(package, log=self.logs / f"pip-{package}.log")
        if rc != 0 or not self.imports(package):
            return f"pip install {package} failed: {last_error(text)}"
        return None

    def version(self, package: str) -> str:
        done = subprocess.run(
            [str(self.python), "-c", f"import {package}; print({package}.__version__)"],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def script(self, name: str, args: list, log: Path) -> tuple[dict, float]:
        """Run peers/NAME in the venv; (its RESULT dict, the process's CPU seconds)."""
        rc, cpu, text = run([self.python, PEERS / name, *args], log, self.env())
        results = [ln for ln in text.splitlines() if ln.startswith("RESULT ")]
        if rc != 0 or not results:
            raise RowError(f"{name} failed (exit {rc}): {last_error(text)} (log: {log})")
        return json.loads(results[-1][len("RESULT ") :]), cpu


class LMs:
    """The pretrained LMs, by name: flair-fwd and flair-bwd (flair_lm.py), and those of
    SEQLAB_LMS. Each is trained once per run, or reused from --work when the very same command
    finished there before (its CPU seconds with it); a row that needs one waits for it."""

    def __init__(self, args, peers: Peers, texts: list[Path]):
        self.args, self.peers, self.texts = args, peers, texts
        self.done: dict[str, dict] = {}  # name -> {"path", "cpu_s", "cmd", ...} or {"error"}
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self.lock = threading.Lock()
        self.values = {
            "lm_epochs": args.seqlab_lm_epochs,
        }

    def get(self, name: str) -> dict:
        with self.lock:
            lock = self.locks[name]
        with lock:
            if name not in self.done:
                try:
                    self.done[name] = self._train(name)
                except RowError as e:
                    self.done[name] = {"error": str(e)}
                    say(f"  LM {name}: {e}")
        if "error" in self.done[name]:
            raise RowError(self.done[name]["error"])
        return self.done[name]

    def cpu_s(self, names: list[str]) -> float:
        return sum(self.done[n]["cpu_s"] for n in names)

    def seqlab_args(self, template: list[str]) -> list[str]:
        """A SEQLAB_* template with {text} and the option values filled in ({lm:...} kept)."""
        out = []
        for a in template:
            if a == "{text}":
                out += [str(t) for t in self.texts]
            elif a == "{text_glob}":
                out += [str(self.texts[0].parent / "*.txt"), "--glob"]
            elif a.startswith("{lm:"):
                out.append(a)
            else:
                out.append(a.format(**self.values))
        return out

    def _reuse(self, lm_dir: Path, cmd: list[str]) -> dict | None:
        done = lm_dir / "bench.json"
        if self.args.fresh or not done.exists():
            return None
        saved = json.loads(done.read_text())
        return saved if saved["cmd"] == cmd else None

    def _train(self, name: str) -> dict:
        if name.startswith("flair-"):
            return self._flair(name)
        return self._seqlab(name)

    def _flair(self, name: str) -> dict:
        self.peers.need("flair")
        a = self.args
        lm_dir = a.work / "flair-lm" / name.removeprefix("flair-")
        cmd = [
            *self.texts, "--out", lm_dir, "--hidden", a.char_hidden, "--layers", a.char_layers,
            "--emb-size", a.char_emb, "--seq-len", a.char_seq_len, "--bs", a.char_bs,
            "--budget-cpu-s", a.char_lm_budget, "--max-epochs", a.char_epochs_flair,
        ]  # fmt: skip
        if a.quick:
            cmd += ["--splits", "3", "--valid-chars", "4000"]
        if name == "flair-bwd":
            cmd.append("--backward")
        cmd = [str(c) for c in cmd]
        saved = self._reuse(lm_dir, cmd)
        if saved:
            say(f"  LM {name}: reusing {lm_dir} ({saved['cpu_s']:.0f} CPU s)")
            return saved
        say(f"  LM {name}: training, budget {a.char_lm_budget:.0f} CPU s ...")
        info, cpu = self.peers.script("flair_lm.py", cmd, a.work / "logs" / f"lm-{name}.log")
        bpc = info.get("best_valid_bpc")
        say(
            f"  LM {name}: {cpu:.0f} CPU s, {info['chars_trained'] / info['chars_per_epoch']:.2f} "
            f"epochs, valid {'?' if bpc is None else f'{bpc:.3f}'} bits/char"
        )
        saved = {"cmd": cmd, "cpu_s": cpu, "path": info["model"], "info": info}
        (lm_dir / "bench.json").write_text(json.dumps(saved))
        return saved

    def _seqlab(self, name: str) -> dict:
        lm_dir = self.args.work / "seqlab-lm" / name
        cache = str(self.args.work / "seqlab-cache")
        cmd = [*self.seqlab_args(SEQLAB_LMS[name]), "--device", "cpu", "--cache-dir", cache]
        cmd += ["--out", str(lm_dir)]
        saved = self._reuse(lm_dir, cmd)
        if saved:
            say(f"  LM {name}: reusing {lm_dir} ({saved['cpu_s']:.0f} CPU s)")
            return saved
        say(f"  LM {name}: seqlab {' '.join(cmd)}")
        if lm_dir.exists():
            shutil.rmtree(lm_dir)
        log = self.args.work / "logs" / f"lm-{name}.log"
        rc, cpu, text = run(seqlab_cmd(cmd), log, {**os.environ, **THREADS})
        if is_usage_error(rc, text):
            raise RowError(
                f"not available in this seqlab: its LM {name} "
                f"(`seqlab {' '.join(SEQLAB_LMS[name])}`): {last_error(text)}"
            )
        if rc != 0:
            raise RowError(f"LM {name} failed: {last_error(text)} (log: {log})")
        say(f"  LM {name}: {cpu:.0f} CPU s")
        saved = {"cmd": cmd, "cpu_s": cpu, "path": str(lm_dir)}
        (lm_dir / "bench.json").write_text(json.dumps(saved))
        return saved


def seqlab_cmd(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "seqlab", *args]


def lms_of(key: str) -> list[str]:
    """The LMs a row needs."""
    if key == "flair-lm":
        return ["flair-fwd", "flair-bwd"]
    for k, _, template in SEQLAB_ROWS:
        if k == key:
            return list(dict.fromkeys(a[4:-1] for a in template if a.startswith("{lm:")))
    return []


class Bench:
    def __init__(self, args, files: dict, gold: Gold, peers: Peers, lms: LMs):
        self.args, self.files, self.gold, self.peers, self.lms = args, files, gold, peers, lms

    def row(self, key: str, name: str) -> dict:
        """Every seed of one row; the row's dict, with a message instead of seeds if it
        could not be measured."""
        r: dict = {"key": key, "name": name, "status": "ok", "seeds": []}
        try:
            if key == "flair-lm" and self.args.skip_flair_lm:
                raise RowError("skipped (--skip-flair-lm)")
            used = lms_of(key)
            for lm in used:
                self.lms.get(lm)
            if used:
                r["lm_cpu_s"] = self.lms.cpu_s(used)
                r["lms"] = {n: self.lms.done[n] for n in used}
            for seed in range(1, (1 if key == "mft" else self.args.seeds) + 1):
                if key == "mft":
                    s = most_frequent_tag(self.gold)
                elif key in ("spacy", "flair-char", "flair-lm"):
                    s = self.peer(key, seed)
                else:
                    s = self.seqlab(key, seed)
                s["seed"] = seed
                r["seeds"].append(s)
                say(
                    f"  [{key}] seed {seed}: accuracy {s['acc']:.4f}, unseen {s['unseen']:.4f}, "
                    f"train {s['train_cpu_s']:.0f} CPU s, predict {wps([s])} words/s"
                )
        except RowError as e:
            r.update(status="not run", message=str(e), seeds=[])
            say(f"  [{key}] {name}: {e}")
        return r

    def peer(self, key: str, seed: int) -> dict:
        a, f = self.args, self.files
        work = a.work / key / f"seed{seed}"
        work.mkdir(parents=True, exist_ok=True)
        pred = work / "test.pred"
        cmd = ["--train", f["train"], "--dev", f["heldout"], "--test", f["test"]]
        cmd += ["--work", work, "--pred", pred, "--seed", seed] + (["--quick"] if a.quick else [])
        log = a.work / "logs" / f"{key}-{seed}.log"
        if key == "spacy":
            self.peers.need("spacy")
            res, _ = self.peers.script("spacy_tag.py", cmd, log)
        else:
            self.peers.need("flair")
            cmd += ["--epochs", a.flair_epochs, "--bs", a.flair_bs, "--lr", a.flair_lr]
            cmd += ["--optimizer", a.flair_optimizer]
            if key == "flair-char":
                cmd += ["--embeddings", "char"]
            else:
                fwd, bwd = self.lms.get("flair-fwd")["path"], self.lms.get("flair-bwd")["path"]
                cmd += ["--embeddings", "flair", "--lm-fwd", fwd, "--lm-bwd", bwd]
            res, _ = self.peers.script("flair_tag.py", cmd, log)
        acc, unseen = self.gold.score(read_tag_lines(pred))
        return dict(
            acc=acc,
            unseen=unseen,
            train_cpu_s=res["train_cpu_s"],
            predict_wps=res["predict_words"] / max(res["predict_cpu_s"], 1e-9),
            peer=res,
        )

    def seqlab(self, key: str, seed: int) -> dict:
        template = next(t for k, _, t in SEQLAB_ROWS if k == key)
        args = []
        for a in self.lms.seqlab_args(template):
            args.append(self.lms.get(a[4:-1])["path"] if a.startswith("{lm:") else a)
        out = self.args.work / key / f"seed{seed}"
        f = self.files
        args += [
            "--train", str(f["train"]), "--valid", str(f["heldout"]), "--test", str(f["test"]),
            "--seed", str(seed), "--device", "cpu", "--out", str(out),
        ]  # fmt: skip
        if self.args.quick:
            args += ["--epochs", "1"]
        if out.exists():
            shutil.rmtree(out)
        env = {**os.environ, **THREADS}
        log = self.args.work / "logs" / f"{key}-{seed}.log"
        rc, train_cpu, text = run(seqlab_cmd(args), log, env)
        if is_usage_error(rc, text):
            raise RowError(f"not available in this seqlab: {last_error(text)}")
        if rc != 0:
            raise RowError(f"`seqlab {' '.join(args[:2])}` failed: {last_error(text)} ({log})")
        config = out / "config.json"
        recorded = config.read_text(encoding="utf-8") if config.exists() else ""
        used = lms_of(key)
        lost = [n for n in used if json.dumps(self.lms.done[n]["path"])[1:-1] not in recorded]
        if lost:  # e.g. a repeated --encoder that this seqlab's CLI reads as one (the last)
            raise RowError(
                f"not available in this seqlab: the run's config.json does not record LM(s) "
                f"{', '.join(lost)}, so it ignored some of `{' '.join(template[2:])}`"
            )
        pred = out / "test.pred.conllu"
        cpus = []
        for name, src, dst in (("test1", f["test1"], out / "test1.pred.conllu"),
                               ("test", f["test"], pred)):  # fmt: skip
            rc, cpu, text = run(
                seqlab_cmd(["predict", str(out), str(src), "--format", "conllu",
                            "--device", "cpu", "--out", str(dst)]),
                self.args.work / "logs" / f"{key}-{seed}-predict-{name}.log",
                env,
            )  # fmt: skip
            if rc != 0:
                raise RowError(f"`seqlab predict` failed: {last_error(text)}")
            cpus.append(cpu)
        tags = [ts for _, ts in peer_io.read_conllu(str(pred))]
        acc, unseen = self.gold.score(tags)
        scores = out / "scores.json"
        delta = cpus[1] - cpus[0]
        return dict(
            acc=acc,
            unseen=unseen,
            train_cpu_s=train_cpu,
            # test words / CPU s; None when too few words to time (--quick)
            predict_wps=(self.gold.n_test - self.gold.n_test1) / delta if delta > 0.05 else None,
            predict_cpu_s={"test": cpus[1], "first_sentence": cpus[0]},
            command="seqlab " + " ".join(args),
            seqlab_scores=json.loads(scores.read_text()) if scores.exists() else None,
        )


# ----------------------------------------------------------------------------------- table --
def mean_sd(values: list[float], digits: int, sep: bool = False) -> str:
    f = f"{{:,.{digits}f}}" if sep else f"{{:.{digits}f}}"
    if len(values) == 1:
        return f.format(values[0])
    return f"{f.format(statistics.mean(values))} ± {f.format(statistics.stdev(values))}"


def wps(seeds: list[dict]) -> str:
    values = [s["predict_wps"] for s in seeds if s["predict_wps"] is not None]
    return f"{statistics.mean(values):,.0f}" if values else "—"


def table(results: list[dict]) -> str:
    lines = [
        "| row | test accuracy | on unseen words | train CPU s | LM pretraining CPU s "
        "| predict words/s |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    for r in results:
        if r["status"] != "ok":
            notes.append(f"- **{r['name']}** ({r['key']}): {r['message']}")
            continue
        seeds = r["seeds"]
        lm = r.get("lm_cpu_s")
        lines.append(
            "| " + " | ".join([
                r["name"],
                mean_sd([s["acc"] for s in seeds], 4),
                mean_sd([s["unseen"] for s in seeds], 4),
                mean_sd([s["train_cpu_s"] for s in seeds], 0, sep=True),
                "—" if not lm else f"{lm:,.0f}",
                wps(seeds),
            ]) + " |"
        )  # fmt: skip
    if notes:
        lines += ["", "Not in the table:", *notes]
    return "\n".join(lines)


def git_head() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()
    except OSError:
        return ""


# ------------------------------------------------------------------------------------ main --
def main() -> None:
    keys = [k for k, _ in ROWS]
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", default=",".join(keys), help=f"comma-separated: {', '.join(keys)}")
    ap.add_argument("--seeds", type=int, default=1, help="seeds per row: mean ± sd")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run: plumbing only")
    ap.add_argument("--skip-flair-lm", action="store_true", help="leave out the flair-lm row")
    ap.add_argument(
        "--jobs", type=int, default=1,
        help="commands at a time (rows without LMs, then LMs, then rows on them); each one thread",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=HERE / "results" / "peers_tag.md")
    ap.add_argument(
        "--work", type=Path, default=Path.home() / ".cache" / "seqlab-bench" / "peers-tag"
    )
    ap.add_argument(
        "--fresh", action="store_true",
        help="retrain LMs that --work holds from an earlier run of the same command",
    )  # fmt: skip
    ap.add_argument(
        "--lms-only", action="store_true",
        help="only pretrain the LMs the chosen rows need (into --work, for a later run)",
    )  # fmt: skip
    ap.add_argument(
        "--peers-venv", type=Path, default=Path.home() / ".cache" / "seqlab-bench" / "peers-venv"
    )
    ap.add_argument("--peers-torch", default="torch==2.13.0", help="pip spec of CPU torch")
    ap.add_argument("--flair-epochs", type=int, default=20, help="flair taggers' max_epochs")
    ap.add_argument("--flair-bs", type=int, default=8, help="flair taggers' mini-batch size")
    ap.add_argument("--flair-lr", type=float, default=0.1, help="flair taggers' learning rate")
    ap.add_argument("--flair-optimizer", choices=("sgd", "adamw"), default="sgd")
    g = ap.add_argument_group("flair's character LMs (defaults: the size of seqlab's --level char)")
    g.add_argument("--char-hidden", type=int, default=512)
    g.add_argument("--char-layers", type=int, default=1)
    g.add_argument("--char-emb", type=int, default=32, help="character embedding size")
    g.add_argument("--char-seq-len", type=int, default=100)
    g.add_argument("--char-bs", type=int, default=32)
    g.add_argument(
        "--char-lm-budget", type=float, default=1430,
        help="CPU seconds per flair char LM (default: what seqlab's default char LM takes)",
    )  # fmt: skip
    g.add_argument("--char-epochs-flair", type=int, default=1000, help="flair LMs' max epochs")
    ap.add_argument(
        "--seqlab-lm-epochs", type=int, default=1,
        help="epochs of each seqlab word LM on english-text (its time budget)",
    )  # fmt: skip
    ap.add_argument(
        "--merge", type=Path, nargs="+", metavar="JSON",
        help="train nothing: one table from the rows of earlier runs' .json files (a measured "
        "row of a later file replaces the same row of an earlier one), written to --out",
    )  # fmt: skip
    args = ap.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    chosen = [k.strip() for k in args.rows.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in keys]
    if unknown:
        ap.error(f"unknown row(s) {', '.join(unknown)}; rows: {', '.join(keys)}")
    for f in ("en_gum-ud-dev.conllu", "en_gum-ud-test.conllu"):
        if not (GUM / f).is_file():
            sys.exit(f"{GUM}: no {f} (see its README)")
    for f in TEXT_FILES:
        if not (TEXT_DIR / f).is_file():
            sys.exit(f"{TEXT_DIR}: no {f} (see its README)")
    os.environ.update(THREADS)
    if args.quick:
        args.work = args.work / "quick"
        args.char_lm_budget = min(args.char_lm_budget, 15)
        args.flair_epochs = 1
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()

    files = make_splits(args.work, args.quick)
    texts = text_files(args.work, args.quick)
    gold = Gold(files)
    say(
        f"GUM UPOS: train {len(gold.train)} sentences ({sum(len(w) for w, _ in gold.train):,} "
        f"words), held-out {len(gold.held)}, test {len(gold.test)} ({gold.n_test:,} words, "
        f"{gold.n_unseen / gold.n_test:.1%} unseen in train); work dir {args.work}"
    )
    peers = Peers(args, args.work / "logs")
    lms = LMs(args, peers, texts)
    bench = Bench(args, files, gold, peers, lms)
    rows = [(k, n) for k, n in ROWS if k in chosen]
    if args.skip_flair_lm:
        rows = [(k, n) for k, n in rows if k != "flair-lm"]
    needed = list(dict.fromkeys(lm for k, _ in rows for lm in lms_of(k)))

    def lm_job(name: str) -> None:
        try:
            lms.get(name)
        except RowError:
            pass  # said once by LMs.get; the rows that need it say it again

    # Rows that need no LM first (their results come early), then the LMs (each trained once,
    # --jobs at a time), then the rows on LMs. A row that needs an LM another worker is
    # training waits for it (a lock per LM, never a queued future: no deadlock).
    versions = {
        "seqlab_commit": git_head(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    info = dict(gold=gold, texts=texts, started=started, versions=versions, rows=rows)
    done: dict[str, dict] = {}
    lock = threading.Lock()

    def row_job(key: str, name: str) -> None:
        r = bench.row(key, name)
        with lock:
            done[key] = r
            if len(done) < len(rows):  # the table so far, should the run be stopped
                write(args, info, done, final=False)

    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        plain = [] if args.lms_only else [(k, n) for k, n in rows if not lms_of(k)]
        on_lms = [] if args.lms_only else [(k, n) for k, n in rows if lms_of(k)]
        futures = [pool.submit(row_job, k, n) for k, n in plain]
        futures += [pool.submit(lm_job, name) for name in needed]
        futures += [pool.submit(row_job, k, n) for k, n in on_lms]
        for fut in futures:
            fut.result()  # re-raise what went wrong in a worker (a RowError never does)
    if args.lms_only:
        say(f"LMs in {args.work} ({(time.time() - started) / 60:.0f} min wall)")
        return
    if peers.python.exists():
        for p in ("torch", "spacy", "flair"):
            if peers.imports(p):
                versions[f"peers_{p}"] = peers.version(p)
    write(args, info, done, final=True)


def merge(files: list[Path], out: Path) -> None:
    """One table from several runs' JSON (e.g. a row rerun after a fix), each row saying
    which run it comes from."""
    runs = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    if len({json.dumps(r["data"], sort_keys=True) for r in runs}) > 1:
        sys.exit("--merge: these runs did not use the same data (their 'data' differ)")
    rows: dict[str, dict] = {}
    for f, run in zip(files, runs, strict=True):
        for r in run["rows"]:
            if r["status"] == "ok" or r["key"] not in rows:
                rows[r["key"]] = {**r, "run": str(f)}
    results = [rows[k] for k, _ in ROWS if k in rows]
    data = runs[0]["data"]
    head = (
        f"GUM UPOS (train: dev minus its last 10%, {data['train_sentences']} sentences; "
        f"held-out {data['heldout_sentences']}; test {data['test_sentences']} sentences, "
        f"{data['test_words']:,} words, {data['test_unseen_words'] / data['test_words']:.1%} "
        f"unseen in train); one thread per tool; merged from {len(files)} runs (each run's own "
        f"JSON is under 'runs' in the .json):\n\n"
        + "".join(
            f"- `{f.name}`: `{run['command']}` ({run['wall_s'] / 60:.0f} min wall; rows "
            f"{', '.join(r['key'] for r in results if r['run'] == str(f))})\n"
            for f, run in zip(files, runs, strict=True)
        )
        + "\n"
    )
    md = table(results)
    say(head + md)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + md + "\n", encoding="utf-8")
    raw = {"merged_from": [str(f) for f in files], "runs": runs, "rows": results, "data": data}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    say(f"\nwrote {out} and {out.with_suffix('.json')}")


def write(args, info: dict, done: dict[str, dict], final: bool) -> None:
    """The markdown table to --out, everything measured to its .json (and the table to stdout
    when final; before that, the rows done so far)."""
    gold = info["gold"]
    results = [done[k] for k, _ in info["rows"] if k in done]
    wall = time.time() - info["started"]
    md = table(results)
    pending = [n for k, n in info["rows"] if k not in done]
    if pending:
        md += "\n\nStill running when this was written: " + "; ".join(pending)
    head = (
        f"GUM UPOS (train: dev minus its last 10%, {len(gold.train)} sentences; held-out "
        f"{len(gold.held)}; test {len(gold.test)} sentences, {gold.n_test:,} words, "
        f"{gold.n_unseen / gold.n_test:.1%} unseen in train); {args.seeds} seed(s)"
        f"{' (QUICK: plumbing check only)' if args.quick else ''}; one thread per tool; "
        f"{wall / 60:.0f} min wall{'' if final else ' so far'}.\n\n"
    )
    if final:
        say("\n" + head + md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cmdline = "python benchmarks/bench_peers_tag.py " + " ".join(sys.argv[1:])
    args.out.write_text(head + md + f"\n\n`{cmdline}`\n", encoding="utf-8")
    raw = {
        "command": cmdline,
        "complete": not pending,
        "quick": args.quick,
        "seeds": args.seeds,
        "wall_s": wall,
        "data": {
            "train_sentences": len(gold.train),
            "heldout_sentences": len(gold.held),
            "test_sentences": len(gold.test),
            "test_words": gold.n_test,
            "test_unseen_words": gold.n_unseen,
            "text_files": [str(t) for t in info["texts"]],
        },
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "versions": info["versions"],
        "rows": results,
    }
    args.out.with_suffix(".json").write_text(
        json.dumps(raw, indent=1, default=str), encoding="utf-8"
    )
    if final:
        say(f"\nwrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
