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
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common.gum import GUM, TEXT_DIR, TEXT_FILES, Gold, make_splits, text_files
from common.lms import LMs
from common.peers import Peers
from common.proc import THREADS, RowError, git_head, say
from common.tables import mean_sd, save, wps
from common.tagrows import TagRows

HERE = Path(__file__).resolve().parent


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
    # the shipped English char LMs (plugins/seqlab_english): nothing pretrained by the user
    (
        "seqlab-english",
        "seqlab + english (shipped char LMs), fwd+bwd",
        ["finetune", "tag", "--encoder", "english", "--backward-encoder", "english"],
    ),
    (
        "seqlab-english-stacked",
        "seqlab + english, stacked with word LMs, fwd+bwd",
        ["finetune", "tag", "--encoder", "english", "--encoder", "{lm:word-fwd}",
         "--backward-encoder", "english", "--backward-encoder", "{lm:word-bwd}"],
    ),
]  # fmt: skip
PEER_ROWS = [
    ("mft", "most frequent tag per word"),
    ("spacy", "spaCy 3 tagger, efficiency config, from scratch"),
    ("flair-char", "flair BiLSTM-CRF, CharacterEmbeddings + one-hot words"),
    ("flair-lm", "flair BiLSTM-CRF, FlairEmbeddings fwd+bwd (own char LMs) + one-hot words"),
]
ROWS = PEER_ROWS + [(key, name) for key, name, _ in SEQLAB_ROWS]


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
    lms = LMs(args, peers, texts, SEQLAB_LMS)
    bench = TagRows(args, files, gold, peers, lms, SEQLAB_ROWS)
    rows = [(k, n) for k, n in ROWS if k in chosen]
    if args.skip_flair_lm:
        rows = [(k, n) for k, n in rows if k != "flair-lm"]
    needed = list(dict.fromkeys(lm for k, _ in rows for lm in bench.lms_of(k)))

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
        plain = [] if args.lms_only else [(k, n) for k, n in rows if not bench.lms_of(k)]
        on_lms = [] if args.lms_only else [(k, n) for k, n in rows if bench.lms_of(k)]
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
    raw = {"merged_from": [str(f) for f in files], "runs": runs, "rows": results, "data": data}
    save(out, head + md + "\n", raw)
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
    cmdline = "python benchmarks/bench_peers_tag.py " + " ".join(sys.argv[1:])
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
    save(args.out, head + md + f"\n\n`{cmdline}`\n", raw)
    if final:
        say(f"\nwrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
