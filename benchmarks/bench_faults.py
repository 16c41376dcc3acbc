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

and the probe's families (issue 23):

  threads            --threads / SEQLAB_THREADS far past the cores, or not a number
  long-sentences     one sentence of thousands of words: refused (file:line, --max-len), or,
                     with --max-len raised, trained within the time limit
  output-over-input  predict --out / export / export-model onto what they read, a run's files,
                     a user's file or another export
  malformed-fields   trailing tabs in CoNLL, a doubled text column, list and empty labels,
                     tabs inside a text in TSV output
  special-files      a directory, a symlink loop, a FIFO, empty stdin, a missing --out folder
  circular-states    a run killed at a random moment of its start: --out and --resume must
                     not send the user to each other; --resume of a finished run says so

and the table counts, per family: cases tried; ok (loaded with identical weights, or worked);
one-line errors (exit 2, one `Error:` line, no traceback: the right answer to bad input);
tracebacks (any other exception or exit code); hangs (past the time limit); runs left
unloadable; resumes (or loads) not bit-identical to the uninterrupted run; runs silently
overwritten; wrong answers (a refusal that does not say what it should, or a command that
went ahead where it must refuse). The goal is zeros in the last six columns.

A family's cases are generated from --seed, so a figure can be reproduced. Each family is a
module of benchmarks/faults/ (a new one: a module there and a line in its FAMILIES).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from faults import FAMILIES, QUICK, run_families, table


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
