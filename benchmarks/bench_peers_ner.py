"""Named entities side by side: seqlab against a baseline and spaCy, on real English NER data.

Corpora (../shared/data/ner/, its README): WNUT17 (train -> test) and WikiANN-en (train ->
test), plus a WikiANN row trained on its first 5,000 sentences (the small-data regime). dev
picks each tool's best checkpoint (WikiANN: its first 2,000 sentences, to keep the per-epoch
scoring cheap); nothing is chosen on test.

Rows:
  mft       each word's most frequent training tag (an unseen word: O), fixed to valid BIO
  spacy     spaCy 3 `ner` from scratch, `spacy init config -p ner --optimize efficiency`,
            `spacy train` (peers/spacy_ner.py), in the peers' virtual environment
  spacy-accuracy  the same with `--optimize accuracy` (tok2vec width 256, depth 8), without
            the static vectors that preset asks for (en_core_web_lg cannot be downloaded)
  flair-char  flair SequenceTagger (BiLSTM-CRF, CharacterEmbeddings + one-hot words,
            peers/flair_tag.py --task ner), flair's ModelTrainer, --flair-epochs epochs
  flair-lm  the same tagger on FlairEmbeddings fwd+bwd: flair's own character LMs, trained by
            flair's LanguageModelTrainer on english-text at the shipped English pair's size
            (--flair-lms DIR holding fwd/best-lm.pt and bwd/best-lm.pt: what
            `bench_peers_tag.py --rows flair-lm --char-hidden 256 --char-emb 32` trains)
  seqlab    the default command: `seqlab finetune tag --train T --valid D --test X`
  seqlab-english  the same with the shipped English character LMs (plugins/seqlab_english):
            `--encoder english --backward-encoder english`

Columns: span F1 (micro, seqeval's default counting, the CoNLL script's), precision, recall;
F1 on entities whose surface form (its words) never is an entity in train ("unseen": gold
and predicted entities restricted to such surfaces); train CPU s (the training process's own
CPU, getrusage); predict words/s (test words / CPU seconds of tagging them: seqlab's is
`seqlab predict RUN test.conll` minus the same on one sentence, spaCy's `nlp.pipe` over the
test Docs). One CPU thread everywhere. Scores are computed here, the same way for every row,
from each tool's predicted test tags.

spaCy is never a seqlab dependency: it is pip-installed into the peers' own virtual environment
(--peers-venv, default ~/.cache/seqlab-bench/peers-venv, shared with bench_peers_tag.py) when
it does not import there; a failed install or run prints one line instead of its row.

    OMP_NUM_THREADS=1 python benchmarks/bench_peers_ner.py [--corpora wnut17,wikiann-en,...]
        [--rows mft,spacy,flair-char,seqlab] [--work DIR] [--out benchmarks/results/peers_ner.md]
        [--jobs 2] [--quick]

--jobs N runs N rows at once, each on one thread (CPU seconds are each row's own processes').
Writes the table to --out (also after each row) and every figure to the same name with .json;
--merge A.json B.json --out X.md makes one table of several runs' rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common.gum import peer_io, read_tag_lines
from common.peers import Peers
from common.proc import THREADS, RowError, git_head, run, say, seqlab_cmd

ROOT = Path(__file__).resolve().parents[1]
NER = ROOT.parent / "shared" / "data" / "ner"
CORPORA = {  # name: (folder, training sentences (None: all), dev sentences (None: all))
    "wnut17": ("wnut17", None, None),
    "wikiann-en": ("wikiann-en", None, 2000),
    "wikiann-en-5k": ("wikiann-en", 5000, 2000),
}
ROWS = ("mft", "spacy", "spacy-accuracy", "flair-char", "flair-lm", "seqlab", "seqlab-english")
SEQLAB_ARGS = {
    "seqlab": [],
    "seqlab-english": ["--encoder", "english", "--backward-encoder", "english"],
}
NAMES = {
    "mft": "most frequent tag per word",
    "spacy": "spaCy 3 `ner`, `init config -p ner --optimize efficiency`, `spacy train`",
    "spacy-accuracy": "spaCy 3 `ner`, `--optimize accuracy` (no static vectors: none can be "
    "downloaded here), `spacy train`",
    "flair-char": "flair BiLSTM-CRF, CharacterEmbeddings + one-hot words",
    "flair-lm": "flair BiLSTM-CRF, FlairEmbeddings fwd+bwd (flair's own char LMs, the pair's "
    "size) + one-hot words",
    "seqlab": "**seqlab default: `seqlab finetune tag --train T --valid D --test X`**",
    "seqlab-english": "seqlab + shipped English char LMs: `--encoder english "
    "--backward-encoder english`",
}


def blocks(path: Path) -> list[list[tuple[str, str]]]:
    """(word, tag) sentences of a CoNLL file, as every peer script reads it (peer_io)."""
    return [list(zip(ws, ts, strict=True)) for ws, ts in peer_io.read_conll(str(path))]


def write_conll(path: Path, sentences) -> Path:
    path.write_text("".join("".join(f"{w}\t{t}\n" for w, t in s) + "\n" for s in sentences))
    return path


def splits(name: str, work: Path, quick: bool, data: Path = NER) -> dict[str, Path]:
    folder, n_train, n_dev = CORPORA[name]
    out = {}
    for split, n in (("train", n_train), ("dev", n_dev), ("test", None)):
        sents = blocks(data / folder / f"{split}.conll")
        if quick:
            n = min(n or 10**9, 300 if split == "train" else 100)
        out[split] = write_conll(work / f"{name}.{split}.conll", sents[:n] if n else sents)
    return out


def tags_of(path: Path) -> list[list[str]]:
    return [[t for _, t in s] for s in blocks(path)]


def surfaces(sentences) -> set[str]:
    from seqlab_tagging.schemes import spans

    out = set()
    for s in sentences:
        words = [w for w, _ in s]
        out |= {" ".join(words[x.start : x.end]) for x in spans([t for _, t in s])}
    return out


def score(gold_path: Path, pred: list[list[str]], seen: set[str]) -> dict:
    from seqeval.metrics import f1_score, precision_score, recall_score

    from seqlab_tagging.schemes import BIO, repair, spans

    gold_s = blocks(gold_path)
    gold = [[t for _, t in s] for s in gold_s]
    pred = [repair(p, BIO) for p in pred]
    out = {
        "f1": f1_score(gold, pred, zero_division=0),
        "precision": precision_score(gold, pred, zero_division=0),
        "recall": recall_score(gold, pred, zero_division=0),
    }
    tp = n_gold = n_pred = 0  # entities whose surface is no training entity's

    def unseen(words, tags):
        return {
            (x.start, x.end, x.type)
            for x in spans(tags)
            if " ".join(words[x.start : x.end]) not in seen
        }

    for s, g, p in zip(gold_s, gold, pred, strict=True):
        words = [w for w, _ in s]
        gu, pu = unseen(words, g), unseen(words, p)
        tp, n_gold, n_pred = tp + len(gu & pu), n_gold + len(gu), n_pred + len(pu)
    prec, rec = tp / max(n_pred, 1), tp / max(n_gold, 1)
    out["unseen_f1"] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    out["unseen_n"] = n_gold
    return out


def mft(files: dict[str, Path], work: Path) -> dict:
    from seqlab_tagging.schemes import BIO, repair

    start = time.thread_time()
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in blocks(files["train"]):
        for w, t in s:
            counts[w][t] += 1
    best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    train_cpu = time.thread_time() - start
    test = blocks(files["test"])
    start = time.thread_time()
    pred = [repair([best.get(w, "O") for w, _ in s], BIO) for s in test]
    predict_cpu = time.thread_time() - start
    words = sum(len(s) for s in test)
    return {"pred": pred, "train_cpu_s": train_cpu, "wps": words / max(predict_cpu, 1e-9)}


def seqlab(files: dict[str, Path], work: Path, logs: Path, row: str = "seqlab") -> dict:
    out = work / f"{row}-run"
    cmd = ["finetune", "tag", *SEQLAB_ARGS[row], "--train", files["train"], "--valid", files["dev"]]
    cmd += ["--test", files["test"], "--out", out, "--overwrite", "--quiet"]
    env = {**os.environ, **THREADS, "SEQLAB_THREADS": "1", "SEQLAB_CACHE": str(work / "cache")}
    rc, train_cpu, text = run(seqlab_cmd(cmd), logs / f"{work.name}.{row}-train.log", env)
    if rc != 0:
        raise RowError(f"seqlab finetune tag failed: {text.strip().splitlines()[-1:]}")
    pred_json = work / f"{row}-pred.jsonl"
    predict = ["predict", out, files["test"], "--json", "--out", pred_json, "--overwrite"]
    rc, cpu, text = run(seqlab_cmd(predict), logs / f"{work.name}.{row}-predict.log", env)
    one = write_conll(work / f"{row}-one.conll", blocks(files["test"])[:1])
    rc2, cpu_one, _ = run(seqlab_cmd(["predict", out, one, "--json"]), logs / "one.log", env)
    if rc or rc2:
        raise RowError(f"seqlab predict failed: {text.strip().splitlines()[-1:]}")
    pred = [json.loads(x)["tags"] for x in pred_json.read_text().splitlines()]
    words = sum(len(p) for p in pred)
    delta = cpu - cpu_one  # too small to time on a --quick test split: no figure
    return {"pred": pred, "train_cpu_s": train_cpu, "wps": words / delta if delta > 0.05 else None}


def spacy(files: dict[str, Path], work: Path, peers: Peers, quick: bool, row: str) -> dict:
    peers.need("spacy")
    pred = work / f"{row}-pred.txt"
    optimize = "accuracy" if row == "spacy-accuracy" else "efficiency"
    args = ["--train", files["train"], "--dev", files["dev"], "--test", files["test"]]
    args += ["--work", work / row, "--pred", pred, "--optimize", optimize]
    args += ["--quick"] if quick else []
    got, _ = peers.script("spacy_ner.py", args, peers.logs / f"{work.name}.{row}.log")
    tags = read_tag_lines(pred)
    return {"pred": tags, "train_cpu_s": got["train_cpu_s"],
            "wps": got["predict_words"] / max(got["predict_cpu_s"], 1e-9)}  # fmt: skip


def flair(files: dict[str, Path], work: Path, peers: Peers, args, row: str) -> dict:
    peers.need("flair")
    pred = work / f"{row}-pred.txt"
    cmd = ["--task", "ner", "--train", files["train"], "--dev", files["dev"]]
    cmd += ["--test", files["test"], "--work", work / row, "--pred", pred]
    cmd += ["--epochs", args.flair_epochs] + (["--quick"] if args.quick else [])
    if row == "flair-lm":
        lms = [args.flair_lms / d / "best-lm.pt" for d in ("fwd", "bwd")]
        if not all(p.exists() for p in lms):
            raise RowError(f"no flair LMs in {args.flair_lms} (fwd/ and bwd/best-lm.pt): train "
                           "them with bench_peers_tag.py --rows flair-lm --char-hidden 256 "
                           "--char-emb 32 --char-lm-budget 3000, or give --flair-lms")  # fmt: skip
        cmd += ["--embeddings", "flair", "--lm-fwd", lms[0], "--lm-bwd", lms[1]]
    got, _ = peers.script("flair_tag.py", cmd, peers.logs / f"{work.name}.{row}.log")
    tags = read_tag_lines(pred)
    return {"pred": tags, "train_cpu_s": got["train_cpu_s"],
            "wps": got["predict_words"] / max(got["predict_cpu_s"], 1e-9)}  # fmt: skip


def table(results: list[dict]) -> str:
    head = "| corpus | method | span F1 | precision | recall | F1 unseen | train CPU s | "
    head += "predict words/s |"
    lines = [head, "|" + "---|" * 8]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['corpus']} | {NAMES[r['row']]} | {r['error']} | | | | | |")
            continue
        lines.append(
            f"| {r['corpus']} | {NAMES[r['row']]} | {r['f1']:.4f} | {r['precision']:.4f} | "
            f"{r['recall']:.4f} | {r['unseen_f1']:.4f} | {r['train_cpu_s']:.0f} | "
            f"{'—' if r['wps'] is None else format(r['wps'], ',.0f')} |"
        )
    return "\n".join(lines) + "\n"


def write(results: list[dict], out: Path, command: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    note = f"`{command}` at {git_head()}, one CPU thread per command.\n\n"
    out.write_text(note + table(results))
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpora", default="wnut17,wikiann-en,wikiann-en-5k")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache/seqlab-bench/peers-ner")
    ap.add_argument("--peers-venv", type=Path,
                    default=Path.home() / ".cache/seqlab-bench/peers-venv")  # fmt: skip
    ap.add_argument("--peers-torch", default="torch==2.13.0", help="pip spec of CPU torch")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/peers_ner.md")
    ap.add_argument("--data", type=Path, default=NER, help="the NER folder (its README)")
    ap.add_argument("--flair-epochs", type=int, default=10, help="flair taggers' max_epochs")
    ap.add_argument(
        "--flair-lms",
        type=Path,
        default=Path.home() / ".cache/seqlab-bench/peers-tag/flair-lm",
        help="flair's own LMs for the flair-lm row (fwd/, bwd/): bench_peers_tag's",
    )
    ap.add_argument("--jobs", type=int, default=1, help="rows run at once (one thread each)")
    ap.add_argument("--quick", action="store_true", help="300 training sentences (plumbing)")
    ap.add_argument("--merge", nargs="+", type=Path, help="JSON files of earlier runs")
    args = ap.parse_args()
    command = "python benchmarks/bench_peers_ner.py " + " ".join(sys.argv[1:])
    if args.merge:
        write([r for p in args.merge for r in json.loads(p.read_text())], args.out, command)
        return
    rows = [r for r in args.rows.split(",") if r]
    for r in rows:
        if r not in ROWS:
            sys.exit(f"--rows: {r!r} is not one of {', '.join(ROWS)}")
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    peers = Peers(args, logs)
    corpora = {}
    for corpus in args.corpora.split(","):
        if corpus not in CORPORA:
            sys.exit(f"--corpora: {corpus!r} is not one of {', '.join(CORPORA)}")
        work = args.work / corpus
        work.mkdir(parents=True, exist_ok=True)
        files = splits(corpus, work, args.quick, args.data)
        corpora[corpus] = (work, files, surfaces(blocks(files["train"])))
    jobs = [(corpus, row) for corpus in corpora for row in rows]
    done: dict[tuple[str, str], dict] = {}
    lock = threading.Lock()

    def one(job: tuple[str, str]) -> None:
        corpus, row = job
        work, files, seen = corpora[corpus]
        say(f"{corpus}: {row}")
        try:
            if row == "mft":
                got = mft(files, work)
            elif row.startswith("spacy"):
                got = spacy(files, work, peers, args.quick, row)
            elif row.startswith("flair"):
                got = flair(files, work, peers, args, row)
            else:
                got = seqlab(files, work, logs, row)
            result = {"corpus": corpus, "row": row, **score(files["test"], got["pred"], seen),
                      "train_cpu_s": got["train_cpu_s"], "wps": got["wps"]}  # fmt: skip
        except RowError as e:
            say(f"  {corpus}: {row}: {e}")
            result = {"corpus": corpus, "row": row, "error": str(e)}
        say(f"  {json.dumps(result)}")
        with lock:  # the table so far, in the order of --corpora and --rows
            done[job] = result
            write([done[j] for j in jobs if j in done], args.out, command)

    # each row's CPU seconds are its own processes' (wait4), so rows side by side stay exact
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, jobs))
    results = [done[j] for j in jobs]
    print(table(results))


if __name__ == "__main__":
    main()
