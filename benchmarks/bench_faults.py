"""The fault benchmark: what a careless or hostile user, a crash or a full disk does to seqlab.

    python benchmarks/bench_faults.py                 # every family, 4-13 minutes on 2 cores
    python benchmarks/bench_faults.py --quick         # a few cases per fast family (the tests)
    python benchmarks/bench_faults.py --families sigkill,disk-full --trials 20

Tiny models (human numbers, a few lines of fixture text) make each case take seconds. The
families:

  checkpoint   corrupted checkpoints: truncated, byte-flipped, a pickle or torch.save file
               renamed to .safetensors (sha256 made to match), JSON fields deleted or set to
               wrong types and huge values, deep nesting, files swapped between runs
  config       the same edits to run configs (config.json), then `--resume`
  model-dir    the same to an exported model directory (`seqlab export-model`), then predict
  options      absurd options (--hidden 1000000000, --clip -1, --epochs 10**12, ...)
  long-lines   a line of many MiB with no space to pretrain, predict and the labelled readers
  sigint       Ctrl-C at a random moment of a run (training, validation, saving), then resume
  sigkill      kill -9 at a random moment, then load and resume
  disk-full    a run on a small tmpfs that fills up (root only; else "skipped: why"), resume
  overwrite    --out naming an existing run, an --encoder run, two runs into one --out

and the table counts, per family: cases tried; ok (loaded with identical weights, or worked);
one-line errors (exit 2, one `Error:` line, no traceback: the right answer to bad input);
tracebacks (any other exception or exit code); hangs (past the time limit); runs left
unloadable; resumes (or loads) not bit-identical to the uninterrupted run; runs silently
overwritten. The goal is zeros in the last five columns.

A family's cases are generated from --seed, so a figure can be reproduced.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = ("ok", "one-line", "traceback", "hang", "unloadable", "not-identical", "overwritten")
FAILURES = COLUMNS[2:]
TINY_LM = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]
TINY_LM += ["--fixed-bptt"]
TIMEOUT = 120  # seconds a single case may take before it counts as a hang
WORDS = {"pos": "good great fine nice", "neg": "bad awful poor sad"}


class Hang(BaseException):
    """Raised by the alarm in a case that ran past its time (not an Exception: nothing in
    seqlab may catch it as an error)."""


@dataclass
class Tally:
    family: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    cases: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)  # the failing cases
    info: list[str] = field(default_factory=list)  # the others (--verbose)

    def add(self, outcome: str, case: str = "", detail: str = "") -> None:
        self.cases += 1
        self.counts[outcome] += 1
        line = f"{self.family}: {case}: {outcome}: {detail.strip()}"[:300]
        if outcome in FAILURES:
            self.notes.append(line)
        else:
            self.info.append(line)

    @property
    def failures(self) -> int:
        return sum(self.counts[c] for c in FAILURES)


# -- running seqlab ------------------------------------------------------------------------------


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum, frame):
        raise Hang

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    kind: str  # "ok", "one-line", "traceback", "hang"
    output: str
    code: int | None = None


def verdict(code: int | None, output: str, expect: tuple[int, ...] = (0,)) -> str:
    """What an exit code and its output mean: the expected codes are "ok"; exit 2 with one
    `Error:` line and no traceback is "one-line"; anything else is a "traceback"."""
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    if "Traceback" in output:
        return "traceback"
    if code in expect:
        return "ok"
    if code == 2 and len(errors) == 1:
        return "one-line"
    return "traceback"


def invoke(*args: Any, timeout: int = TIMEOUT, input: str | None = None) -> Outcome:
    """`seqlab ARGS` in this process (click's test runner): fast, and exceptions are seen."""
    from click.testing import CliRunner

    from seqlab.cli.main import cli

    try:
        with alarm(timeout):
            result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    except Hang:
        return Outcome("hang", "", None)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        name = type(result.exception).__name__
        return Outcome("traceback", f"{name}: {result.exception}\n{output}", result.exit_code)
    return Outcome(verdict(result.exit_code, output), output, result.exit_code)


def seqlab_process(*args: Any, **popen: Any) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "seqlab", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )


def run_process(*args: Any, timeout: int = TIMEOUT) -> Outcome:
    proc = seqlab_process(*args)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Outcome("hang", "", None)
    return Outcome(verdict(proc.returncode, err), out + err, proc.returncode)


def weights_of(stem: Path) -> dict[str, Any]:
    from seqlab.store.checkpoint import load_tensors

    return load_tensors(stem)[0]


def same_weights(a: dict[str, Any], b: dict[str, Any]) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def try_load(stem: Path) -> tuple[str, str, dict | None]:
    """Load a checkpoint as `seqlab predict` would: (outcome, detail, its weights)."""
    from seqlab import load_model
    from seqlab.store.errors import CheckpointError

    try:
        with alarm(TIMEOUT):
            model, _, _ = load_model(stem)
    except Hang:
        return "hang", "", None
    except CheckpointError as e:
        one_line = "\n" not in str(e)
        return ("one-line" if one_line else "traceback"), str(e), None
    except Exception as e:  # noqa: BLE001 - what the benchmark is here to count
        return "traceback", f"{type(e).__name__}: {e}", None
    return "ok", "", {k: v for k, v in model.state_dict().items()}


# -- fixtures ------------------------------------------------------------------------------------


def labelled_csv(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    rows = ["text,label"]
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        other = "neg" if label == "pos" else "pos"
        words = rng.choices(WORDS[label].split(), k=3) + rng.choices(WORDS[other].split(), k=1)
        rows.append(f"{' '.join(words)} movie,{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def tagged_conll(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    blocks = []
    for _ in range(n):
        words = [str(rng.randint(1, 99)) for _ in range(4)]
        blocks.append("".join(f"{w}\t{'EVEN' if int(w) % 2 == 0 else 'ODD'}\n" for w in words))
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")
    return path


class Fixtures:
    """Tiny runs built once: LMs (two, of different sizes, for swaps), a classifier, a tagger,
    an exported model directory. Built on first use."""

    def __init__(self, root: Path, quick: bool):
        self.root, self.quick = root, quick
        self._made: dict[str, Path] = {}
        self.reference_seconds = 0.0

    def get(self, name: str) -> Path:
        if name not in self._made:
            self._made[name] = getattr(self, f"_make_{name.replace('-', '_')}")()
        return self._made[name]

    def _train(self, name: str, *args: Any) -> Path:
        out = self.root / name
        result = invoke(*args, "--out", out, timeout=600)
        if result.kind != "ok":
            raise RuntimeError(f"fixture {name} failed: {result.output[-2000:]}")
        return out

    def _make_lm(self) -> Path:
        epochs = (
            ("--epochs", "1", "--bs", "64", "--bptt", "40") if self.quick else ("--epochs", "2")
        )
        args = ("pretrain", "human-numbers", *TINY_LM, *epochs, "--seed", "1")
        return self._train("lm", *args)

    def _make_lm2(self) -> Path:
        tiny = [a if a != "16" else "24" for a in TINY_LM]  # another hidden size
        return self._train("lm2", "pretrain", "human-numbers", *tiny, "--epochs", "1")

    def _make_data(self) -> Path:
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        for split, n, seed in (("train", 48, 0), ("valid", 16, 1)):
            labelled_csv(data / f"{split}.csv", n, seed)
            tagged_conll(data / f"{split}.conll", n, seed)
        return data

    def _make_clf(self) -> Path:
        d = self.get("data")
        args = ("finetune", "classify", "--from-scratch", "--train", d / "train.csv")
        tiny = ("--epochs", "1", "--bs", "8", "--lin", "8", "--hidden", "16", "--emb-size", "8")
        return self._train("clf", *args, "--valid", d / "valid.csv", *tiny)

    def _make_tagger(self) -> Path:
        d = self.get("data")
        args = ("finetune", "tag", "--train", d / "train.conll", "--valid", d / "valid.conll")
        return self._train("tagger", *args, "--epochs", "1")

    def _make_model_dir(self) -> Path:
        out = self.root / "model-dir"
        result = invoke("export-model", self.get("clf"), out)
        if result.kind != "ok":
            raise RuntimeError(f"export-model failed: {result.output[-2000:]}")
        return out


def scratch_copy(src: Path, root: Path) -> Path:
    dst = Path(tempfile.mkdtemp(prefix=f"{src.name}-", dir=root))
    shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


# -- corruptions -------------------------------------------------------------------------------

JUNK_VALUES: list[Any] = ["x", "", [], {}, None, True, -1, 0, 0.5, 10**7, 1e9, 10**12]


def json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into `value` (dict keys and list indices), the root excluded."""
    out = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = list(enumerate(value))[:3]  # a few entries of long lists (vocabs)
    else:
        return out
    for k, v in items:
        out.append((*prefix, k))
        out += json_paths(v, (*prefix, k))
    return out


def edit_json(data: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    data = json.loads(json.dumps(data))
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


def json_edits(meta: Any, rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    """(description, new file text): deletions, wrong types, huge values, whole-file junk."""
    paths = json_paths(meta)
    for text in ("[]", '"x"', "null", "{", "[" * 100_000 + "]" * 100_000):
        yield f"file = {text[:12]}", text
    for _ in range(n):
        path = rng.choice(paths)
        name = ".".join(map(str, path))
        if rng.random() < 0.25:
            if isinstance(path[-1], int):
                continue
            yield f"del {name}", json.dumps(edit_json(meta, path, None, delete=True))
        else:
            value = rng.choice(JUNK_VALUES)
            yield f"{name} = {json.dumps(value)}", json.dumps(edit_json(meta, path, value))


def fix_sha(stem: Path) -> None:
    """Make the JSON's sha256 match the weights file (so content checks, not the hash, act)."""
    meta_path = stem.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(stem.with_suffix(".safetensors").read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))


def weight_corruptions(stem: Path, rng: random.Random, n: int) -> Iterator[tuple[str, Callable]]:
    """(description, function that corrupts the copy at STEM): bytes, not JSON."""
    size = stem.with_suffix(".safetensors").stat().st_size
    header = 8 + int.from_bytes(stem.with_suffix(".safetensors").read_bytes()[:8], "little")

    def truncate(k: int, sha: bool):
        def do(s: Path):
            w = s.with_suffix(".safetensors")
            w.write_bytes(w.read_bytes()[:k])
            if sha:
                fix_sha(s)

        return do

    def flip(at: int, sha: bool):
        def do(s: Path):
            w = s.with_suffix(".safetensors")
            data = bytearray(w.read_bytes())
            data[at] ^= 1 << rng.randrange(8)
            w.write_bytes(bytes(data))
            if sha:
                fix_sha(s)

        return do

    def replace_with(payload: Callable[[], bytes]):
        def do(s: Path):
            s.with_suffix(".safetensors").write_bytes(payload())
            fix_sha(s)

        return do

    def torch_save() -> bytes:
        import torch

        buf = io.BytesIO()
        torch.save({"encoder.embedding.weight": torch.zeros(3, 3)}, buf)
        return buf.getvalue()

    yield (
        "a pickle renamed .safetensors (sha256 fixed)",
        replace_with(lambda: pickle.dumps({"weights": [1.0, 2.0]})),
    )
    yield "a torch.save file renamed .safetensors (sha256 fixed)", replace_with(torch_save)
    yield "empty weights (sha256 fixed)", truncate(0, True)
    for k in (4, 8, header - 1, header, size - 1):
        yield f"truncated to {k} bytes (sha256 fixed)", truncate(k, True)
    for _ in range(n):
        k = rng.randrange(size)
        yield f"truncated to {k} bytes", truncate(k, False)
        at = rng.randrange(size)
        yield f"byte {at} flipped", flip(at, False)
        at = rng.randrange(8, header)
        yield f"header byte {at} flipped (sha256 fixed)", flip(at, True)
    yield "8-byte header length flipped (sha256 fixed)", flip(rng.randrange(8), True)


def fam_checkpoint(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Corrupt a run's best checkpoint; load it as predict does (library) and through the CLI."""
    runs = ["lm", "clf"] if fx.quick else ["lm", "clf", "tagger"]
    for run in runs:
        src = fx.get(run)
        original = weights_of(src / "best")
        meta = json.loads((src / "best.json").read_text())
        cases: list[tuple[str, Callable]] = list(weight_corruptions(src / "best", rng, n))
        for desc, text in json_edits(meta, rng, n):
            cases.append((desc, lambda s, text=text: s.with_suffix(".json").write_text(text)))
        if "lm2" in fx._made or not fx.quick:
            other = fx.get("lm2")
            cases.append(("weights swapped with another run's", _swap(other, fix=False)))
            cases.append(("weights swapped with another run's (sha fixed)", _swap(other, True)))
        for desc, corrupt in cases:
            copy = scratch_copy(src, fx.root)
            corrupt(copy / "best")
            outcome, detail, got = try_load(copy / "best")
            if outcome == "ok" and got is not None:
                same = same_weights(_stored(got, original), original)
                outcome = "ok" if same or "sha256 fixed" in desc else "not-identical"
            t.add(outcome, f"{run} {desc}", detail)
            cli_too = not fx.quick or t.cases % 4 == 0  # quick: a sample of them
            if run != "lm" and cli_too:  # the CLI's answer too: one line, exit 2
                result = invoke("predict", copy, "--text", "good movie")
                t.add(result.kind, f"{run} predict, {desc}", result.output[-300:])
            shutil.rmtree(copy)


def _stored(state: dict, original: dict) -> dict:
    """The model's state dict restricted to what the file stores (tied twins are aliases)."""
    return {k: v for k, v in state.items() if k in original}


def _swap(other: Path, fix: bool) -> Callable[[Path], None]:
    def do(stem: Path) -> None:
        shutil.copy(other / "best.safetensors", stem.with_suffix(".safetensors"))
        if fix:
            fix_sha(stem)

    return do


def fam_config(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Edit a finished run's config.json and resume it (LM and classifier)."""
    commands = {"lm": ("pretrain",), "clf": ("finetune", "classify")}
    for run, command in commands.items():
        if fx.quick and run != "lm":  # a classifier's resume scores it again: slower
            continue
        src = fx.get(run)
        config = json.loads((src / "config.json").read_text())
        edits = list(json_edits(config, rng, n))
        if run == "lm" and not fx.quick:
            swapped = (fx.get("lm2") / "config.json").read_text()
            edits.append(("config.json from another run", swapped))
        if run == "lm":
            edits.append(("train.epochs = 10**12", _set(config, ("train", "epochs"), 10**12)))
        files = [("config.json", desc, text) for desc, text in edits]
        state = json.loads((src / "train_state.json").read_text())
        files += [("train_state.json", d, text) for d, text in json_edits(state, rng, n)]
        for name, desc, text in files:
            copy = scratch_copy(src, fx.root)
            (copy / name).write_text(text)
            result = invoke(*command, "--resume", copy)
            t.add(result.kind, f"{run} {name}: {desc}", result.output[-300:])
            shutil.rmtree(copy)


def _set(config: dict, path: tuple, value: Any) -> str:
    return json.dumps(edit_json(config, path, value))


def fam_model_dir(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Corrupt an exported model directory's files; predict with it."""
    src = fx.get("model-dir")
    config = json.loads((src / "config.json").read_text())
    cases: list[tuple[str, Callable[[Path], None]]] = []
    for desc, text in json_edits(config, rng, n):
        cases.append((f"config.json {desc}", _writer("config.json", text)))
    weights = (src / "model.safetensors").read_bytes()
    for k in (0, 8, len(weights) // 2):
        cases.append(
            (f"model.safetensors truncated to {k}", _writer_b("model.safetensors", weights[:k]))
        )
    cases.append(
        ("model.safetensors is a pickle", _writer_b("model.safetensors", pickle.dumps([1])))
    )
    for name in ("tokenizer.json", "model.safetensors"):
        cases.append((f"{name} deleted", lambda d, name=name: (d / name).unlink()))
    for desc, do in cases:
        copy = scratch_copy(src, fx.root)
        do(copy)
        result = invoke("predict", copy, "--text", "good movie")
        t.add(result.kind, desc, result.output[-300:])
        shutil.rmtree(copy)


def _writer(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text)


def _writer_b(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)


# -- options and long lines --------------------------------------------------------------------

ABSURD_PRETRAIN = [
    ["--hidden", "1000000000"],
    ["--emb-size", "1000000000"],
    ["--layers", "10000000"],
    ["--emb-size", "-1"],
    ["--clip", "-1"],
    ["--lr", "0"],
    ["--lr", "nan"],
    ["--wd", "-1"],
    ["--epochs", str(10**12)],
    ["--epochs", "0"],
    ["--bs", "0"],
    ["--bptt", "-5"],
    ["--seed", "-1"],
    ["--pct-start", "1"],
    ["--emb-drop", "1"],
    ["--max-vocab", "0"],
]
ABSURD_CLASSIFY = [
    ["--lin", "1000000000"],
    ["--lin", "1e9"],
    ["--lr-factor", "0"],
    ["--lr-factor", "-2"],
    ["--epochs", "0"],
    ["--bs", "0"],
    ["--hidden", "1000000000"],
]


def fam_options(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    out = fx.root / "options-runs"
    cases = ABSURD_PRETRAIN if not fx.quick else ABSURD_PRETRAIN[::2]
    for opts in cases:
        args = ["pretrain", "human-numbers", *TINY_LM, "--epochs", "1", *opts]
        result = invoke(*args, "--out", out / f"p{t.cases}")
        outcome = "ok" if result.kind == "one-line" else result.kind
        if result.kind == "ok":  # trained on an absurd value: as bad as a traceback
            outcome = "traceback"
        t.add(outcome, " ".join(opts), result.output[-300:])
    d = fx.get("data")
    for opts in ABSURD_CLASSIFY if not fx.quick else ABSURD_CLASSIFY[::2]:
        args = ["finetune", "classify", "--from-scratch", "--train", d / "train.csv"]
        args += ["--valid", d / "valid.csv", "--epochs", "1", *opts]
        result = invoke(*args, "--out", out / f"c{t.cases}")
        outcome = {"one-line": "ok", "ok": "traceback"}.get(result.kind, result.kind)
        t.add(outcome, " ".join(opts), result.output[-300:])


def fam_long_lines(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """A line far past the limits, with no space: refused with file:line, quickly."""
    from seqlab.data import textfiles

    d = fx.root / "long"
    d.mkdir(exist_ok=True)
    text_limit = textfiles.MAX_TEXT_LINE
    stream_limit = textfiles.MAX_LINE
    if fx.quick:  # the same code path with a smaller limit, so the test suite stays fast
        textfiles.MAX_LINE = 1 << 20
    try:
        line = "a" * (textfiles.MAX_LINE + (1 << 20))
        words = " ".join(["one two three"] * 2000)
        corpus = d / "corpus.txt"
        corpus.write_text(f"{words}\n{line}\n{words}\n")
        args = ("pretrain", corpus, *TINY_LM, "--epochs", "1", "--cache-dir", d / "cache")
        result = invoke(*args, "--out", d / "lm")
        t.add(_refused(result, "line 2"), "pretrain, a long line", result.output[-300:])
        long_text = "good " + "a" * (text_limit + 10)
        (d / "in.txt").write_text(f"good movie\n{long_text}\n")
        for run in ("clf",) if fx.quick else ("clf", "tagger"):
            result = invoke("predict", fx.get(run), d / "in.txt")
            t.add(_refused(result, "line 2"), f"{run} predict FILE", result.output[-300:])
            result = invoke("predict", fx.get(run), "-", input=f"{long_text}\n")
            t.add(_refused(result, "line 1"), f"{run} predict stdin", result.output[-300:])
        train = fx.get("data") / "train.csv"
        bad = d / "train.csv"
        bad.write_text(train.read_text() + f"{long_text},pos\n")
        result = invoke(
            "finetune", "classify", "--from-scratch", "--train", bad,
            "--valid", fx.get("data") / "valid.csv", "--out", d / "clf",
        )  # fmt: skip
        t.add(_refused(result, "line"), "finetune classify, a long line", result.output[-300:])
    finally:
        textfiles.MAX_LINE = stream_limit


def _refused(result: Outcome, where: str) -> str:
    if result.kind == "one-line" and where in result.output:
        return "ok"
    return "traceback" if result.kind in ("ok", "one-line") else result.kind


# -- signals, full disks, overwriting -----------------------------------------------------------

# long enough to be hit mid-training, mid-validation and mid-save at random moments
SIGNAL_RUN = ["pretrain", "human-numbers", *TINY_LM, "--bs", "64", "--bptt", "40"]
SIGNAL_RUN += ["--epochs", "3", "--seed", "7"]


def reference(fx: Fixtures) -> tuple[Path, float]:
    """The uninterrupted run the resumed ones must equal, and how long it took."""
    if "reference" not in fx._made:
        start = time.perf_counter()
        result = run_process(*SIGNAL_RUN, "--out", fx.root / "reference", timeout=600)
        if result.kind != "ok":
            raise RuntimeError(f"reference run failed: {result.output[-2000:]}")
        fx._made["reference"] = fx.root / "reference"
        fx.reference_seconds = time.perf_counter() - start
    return fx._made["reference"], fx.reference_seconds


def check_after_stop(fx: Fixtures, t: Tally, run: Path, desc: str, stop: Outcome) -> None:
    """After a run was stopped: what it left must load, and resuming must end where the
    uninterrupted run ended, bit for bit."""
    ref, _ = reference(fx)
    for name in ("best", "last"):
        if (run / f"{name}.json").exists() or (run / f"{name}.safetensors").exists():
            outcome, detail, _ = try_load(run / name)
            if outcome != "ok":
                t.add("unloadable", f"{desc}: {name}", detail)
                return
    if not (run / "train_state.json").exists() and not (run / "last.json").exists():
        t.add(stop.kind if stop.kind != "ok" else "ok", f"{desc}: stopped before any save")
        return
    result = run_process("pretrain", "--resume", run, timeout=600)
    if result.kind != "ok":
        t.add(result.kind, f"{desc}: resume", result.output[-300:])
        return
    same = same_weights(weights_of(run / "last"), weights_of(ref / "last"))
    t.add("ok" if same else "not-identical", desc)


def started(proc: subprocess.Popen, run: Path) -> float:
    """Wait until the run has started (its config.json is written: the data is read, the
    model built); the time waited. A signal before that hits Python's own start-up."""
    start = time.perf_counter()
    while not (run / "config.json").exists() and proc.poll() is None:
        time.sleep(0.05)
    return time.perf_counter() - start


def fam_signal(fx: Fixtures, t: Tally, rng: random.Random, n: int, sig: int) -> None:
    _, seconds = reference(fx)
    name = signal.Signals(sig).name
    for trial in range(n):
        run = fx.root / f"{name.lower()}-{trial}"
        proc = seqlab_process(*SIGNAL_RUN, "--out", run)
        startup = started(proc, run)
        delay = rng.uniform(0.0, 1.0) * max(seconds - startup, 1.0)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)
        delay += startup
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            t.add("hang", f"{name} at {delay:.1f}s: did not stop")
            continue
        # SIGINT outside the training loop (start-up, the last messages) is Python's: the
        # process dies of it (-2); what counts is then what it left, checked below
        expect = (0, 130, -2) if sig == signal.SIGINT else (0, -9)
        stop = Outcome(verdict(proc.returncode, err, expect), err, proc.returncode)
        if proc.returncode == -2:
            last = err.strip().splitlines()[-1:] or [""]
            t.info.append(f"{name} at {delay:.1f}s: died of the signal (exit -2); {last[0]}")
        if stop.kind == "traceback":
            t.add("traceback", f"{name} at {delay:.1f}s: exit {proc.returncode}", err[-300:])
            continue
        check_after_stop(fx, t, run, f"{name} at {delay:.1f}s", stop)
        shutil.rmtree(run, ignore_errors=True)


def fam_disk_full(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Runs on a small tmpfs that fills up, then resumed on a big disk."""
    mnt = fx.root / "tmpfs"
    mnt.mkdir(exist_ok=True)
    probe = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    )
    if probe.returncode != 0:
        t.skipped = f"cannot mount a tmpfs here ({probe.stderr.decode().strip() or 'not root'})"
        return
    subprocess.run(["umount", str(mnt)], check=True)
    ref, _ = reference(fx)
    full = sum(p.stat().st_size for p in ref.rglob("*") if p.is_file())
    for trial in range(n):
        size = rng.randint(max(full // 20, 16 << 10), full)
        size = (size + 4095) // 4096 * 4096
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True
        )
        try:
            result = run_process(*SIGNAL_RUN, "--out", mnt / "run", timeout=600)
            desc = f"tmpfs of {size >> 10} KiB"
            if result.kind == "traceback":
                t.add("traceback", desc, result.output[-300:])
                continue
            if result.kind == "hang":
                t.add("hang", desc)
                continue
            run = fx.root / f"disk-{trial}"
            shutil.copytree(mnt / "run", run) if (mnt / "run").exists() else run.mkdir()
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
        check_after_stop(fx, t, run, desc, result)
        shutil.rmtree(run, ignore_errors=True)


def fam_overwrite(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Commands that would replace an existing run: they must refuse (or --overwrite)."""
    lm = scratch_copy(fx.get("lm"), fx.root)
    before = weights_of(lm / "best")
    d = fx.get("data")
    cases = [
        ("pretrain --out EXISTING", ["pretrain", "human-numbers", *TINY_LM, "--epochs", "1"]),
        (
            "finetune --encoder RUN --out RUN",
            [
                "finetune",
                "classify",
                "--encoder",
                lm,
                "--train",
                d / "train.csv",
                "--valid",
                d / "valid.csv",
                "--epochs",
                "1",
            ],
        ),  # fmt: skip
    ]
    for desc, args in cases:
        result = invoke(*args, "--out", lm)
        changed = not (lm / "best.json").exists() or not same_weights(
            weights_of(lm / "best"), before
        )
        if result.kind == "ok" or changed:
            t.add("overwritten", desc, result.output[-300:])
        else:
            t.add("ok" if result.kind == "one-line" else result.kind, desc, result.output[-300:])
    # two commands into one new --out at once: one must refuse, the other's run must load
    target = fx.root / "twice"
    procs = [seqlab_process(*SIGNAL_RUN[:-2], "--seed", str(s), "--out", target) for s in (1, 2)]
    codes = [p.wait(timeout=600) for p in procs]
    errs = [p.stderr.read() if p.stderr else "" for p in procs]
    for p in procs:
        p.communicate()
    if codes.count(0) == 2:
        t.add("overwritten", "two pretrain into one --out: both exit 0", " | ".join(errs)[-300:])
    else:
        outcome, detail, _ = try_load(target / "last")
        t.add("ok" if outcome == "ok" else "unloadable", "two pretrain into one --out", detail)
    shutil.rmtree(lm, ignore_errors=True)


FAMILIES: dict[str, Callable[..., None]] = {
    "checkpoint": fam_checkpoint,
    "config": fam_config,
    "model-dir": fam_model_dir,
    "options": fam_options,
    "long-lines": fam_long_lines,
    "sigint": lambda fx, t, rng, n: fam_signal(fx, t, rng, n, signal.SIGINT),
    "sigkill": lambda fx, t, rng, n: fam_signal(fx, t, rng, n, signal.SIGKILL),
    "disk-full": fam_disk_full,
    "overwrite": fam_overwrite,
}
QUICK = ("checkpoint", "config", "options", "long-lines")


def run_families(
    names: list[str], root: Path, quick: bool = False, trials: int = 10, seed: int = 0
) -> list[Tally]:
    """Run the named families (cases drawn from `seed`) in `root`; their tallies."""
    fx = Fixtures(root, quick)
    tallies = []
    n = 2 if quick else trials
    for name in names:
        tally = Tally(name)
        try:
            FAMILIES[name](fx, tally, random.Random(f"{seed}-{name}"), n)
        except RuntimeError as e:  # a fixture that could not be built
            tally.skipped = str(e).splitlines()[0][:200]
        tallies.append(tally)
    return tallies


def table(tallies: list[Tally]) -> str:
    head = ["family", "cases", *COLUMNS]
    rows = [head]
    for t in tallies:
        if t.skipped:
            rows.append([t.family, f"skipped: {t.skipped}"])
        else:
            rows.append([t.family, str(t.cases), *(str(t.counts[c]) for c in COLUMNS)])
    widths = [max(len(r[i]) for r in rows if i < len(r) and len(r) > 2) for i in range(len(head))]
    lines = []
    for r in rows:
        if len(r) == 2:
            lines.append(f"{r[0]:<{widths[0]}}  {r[1]}")
        else:
            lines.append(
                "  ".join(
                    c.rjust(w) if i else c.ljust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=False))
                )
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few cases of the fast families")
    parser.add_argument("--families", default=None, help="comma-separated; default: all")
    parser.add_argument("--trials", type=int, default=10, help="cases per random generator")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="print every failing case")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    names = args.families.split(",") if args.families else list(QUICK if args.quick else FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {unknown[0]}; known: {', '.join(FAMILIES)}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seqlab-faults-") as tmp:
        os.environ.setdefault("SEQLAB_CACHE", str(Path(tmp) / "cache"))
        tallies = run_families(names, Path(tmp), args.quick, args.trials, args.seed)
    print(table(tallies))
    print(f"\n{time.perf_counter() - start:.0f} s; seed {args.seed}, trials {args.trials}")
    notes = [note for t in tallies for note in t.notes]
    for note in notes if args.verbose else notes[:20]:
        print(note)
    if args.verbose:
        print("\nthe other cases:")
        for t in tallies:
            print("\n".join(t.info))
    sys.exit(1 if any(t.failures for t in tallies) else 0)


if __name__ == "__main__":
    main()
