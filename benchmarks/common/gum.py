"""GUM UPOS tagging as the tagging benchmarks use it: the splits (train = the dev file minus
its last 10%, held-out = that 10%, test = the test file), the unlabelled english-text the LMs
read, the gold tags and their scorer (accuracy, and on words unseen in train), and the
most-frequent-tag baseline."""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from common.conllu import blocks, upos, words_only, write_conllu
from common.proc import RowError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
import peer_io  # noqa: E402  (benchmarks/peers/peer_io.py: the CoNLL-U reader every row shares)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"  # beside the checkout
GUM = SHARED / "ud-gum"
TEXT_DIR = SHARED / "english-text"
TEXT_FILES = ("wikitext-2-valid.txt", "wikitext-2-test.txt", "gutenberg-books.txt")


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
