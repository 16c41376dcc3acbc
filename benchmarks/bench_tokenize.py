"""Tokenization throughput: seqlab's token cache (Hugging Face `tokenizers`) vs pure Python.

Both do the same job on the same generated corpus (default 12M tokens, ~60 MB of text): count
the words of the text, build the vocab (by count, ties in string order), then turn the text into
ids in a numpy array. The split is the same regex, `\\w+|[^\\w\\s]+` (Python's `re` here, Rust's
in `tokenizers`), and the script checks that both give the very same ids.

  baseline   pure Python: re.findall per line, collections.Counter, a dict lookup per token
  seqlab     seqlab.data.tokenize.prepare: hashing, both passes and the .npy written to disk
             included

Also printed: how far the peak resident memory rose during each (the baseline keeps its ids in
a Python list until the end, as such code does; seqlab streams them to disk).

`tokenizers` spreads its work over RAYON_NUM_THREADS threads (default: every core); pass
--threads 1 for a one-core comparison with the (single-threaded) baseline.

    OMP_NUM_THREADS=1 python benchmarks/bench_tokenize.py [--tokens 12000000] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

WORD = re.compile(r"\w+|[^\w\s]+")


def generate(path: Path, n_tokens: int, seed: int = 0) -> int:
    """Lines of Zipf-distributed words with some punctuation; returns the token count."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(50_000)] + [",", ".", "!", "?", "'s"])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < n_tokens:
            ids = rng.choice(len(vocab), size=200_000, p=weights)
            words = vocab[ids]
            for start in range(0, len(words), 12):  # 12 tokens a line
                f.write(" ".join(words[start : start + 12]) + "\n")
            written += len(words)
    return written


def baseline(path: Path) -> tuple[list[str], np.ndarray]:
    counts: Counter[str] = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(WORD.findall(line))
    specials = ["xxunk", "xxpad", "xxbos", "xxfld", "xxmaj", "xxup", "xxrep", "xxwrep"]
    words = sorted(
        (w for w, n in counts.items() if n >= 2 and w not in specials),
        key=lambda w: (-counts[w], w),
    )
    itos = specials + words[: 60_000 - len(specials)]
    stoi = {t: i for i, t in enumerate(itos)}
    ids = [2]  # xxbos: the file is one document
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids.extend(stoi.get(t, 0) for t in WORD.findall(line))
    return itos, np.array(ids, dtype=np.uint16)


def status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> float:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_mb("VmRSS")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=12_000_000)
    ap.add_argument("--threads", type=int, default=None, help="RAYON_NUM_THREADS for tokenizers")
    args = ap.parse_args()
    if args.threads:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    from rich.console import Console  # after RAYON_NUM_THREADS: tokenizers reads it on import

    from seqlab.data import tokenize

    work = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    try:
        corpus = work / "corpus.txt"
        n = generate(corpus, args.tokens)
        mb = corpus.stat().st_size / 1e6
        print(
            f"corpus: {n:,} tokens, {mb:.0f} MB; threads for tokenizers: "
            f"{os.environ.get('RAYON_NUM_THREADS', 'all cores')}; cores: {os.cpu_count()}"
        )

        rss0 = reset_peak_rss()
        start, cpu = time.perf_counter(), time.process_time()
        valid = work / "valid.txt"  # a token of validation text: the job is the train file
        valid.write_text("w1 w2 .\n", encoding="utf-8")
        cache = tokenize.prepare(
            [corpus],
            [valid],
            tokenize.TextSettings(),
            cache_root=work / "cache",
            console=Console(stderr=True, quiet=True),
        )
        t_seqlab, c_seqlab = time.perf_counter() - start, time.process_time() - cpu
        rss_seqlab = status_mb("VmHWM") - rss0
        rss0 = reset_peak_rss()
        start, cpu = time.perf_counter(), time.process_time()
        itos, base_ids = baseline(corpus)
        t_base, c_base = time.perf_counter() - start, time.process_time() - cpu

        rss_base = status_mb("VmHWM") - rss0
        got = tokenize.load(cache)
        same = got.vocab.itos == itos and np.array_equal(got.split("train")[0], base_ids)

        print(f"{'':24}{'baseline':>14}{'seqlab':>14}{'ratio':>10}")
        print(f"{'seconds (wall)':24}{t_base:14.2f}{t_seqlab:14.2f}{t_base / t_seqlab:9.2f}x")
        print(
            f"{'CPU seconds, all threads':24}{c_base:14.2f}{c_seqlab:14.2f}"
            f"{c_base / c_seqlab:9.2f}x"
        )
        print(
            f"{'M tokens/s':24}{n / t_base / 1e6:14.2f}{n / t_seqlab / 1e6:14.2f}"
            f"{t_base / t_seqlab:9.2f}x"
        )
        print(f"{'MB of text/s':24}{mb / t_base:14.1f}{mb / t_seqlab:14.1f}")
        print(f"{'peak RSS growth, MB':24}{rss_base:14.0f}{rss_seqlab:14.0f}")
        print(f"identical vocab and ids: {'yes' if same else 'NO'}")
        if not same:
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
