"""What reading frozen character LMs once saves: a tagger on a forward + backward char LM pair,
trained with each sentence's LM vectors remembered (the default) and read every epoch, side by
side in this process, with the same seed (the runs end bit for bit the same; the suite tests
that). Prints CPU seconds of each and their ratio.

    OMP_NUM_THREADS=1 python benchmarks/bench_frozen_lms.py [--hidden 512] [--epochs 5]

The LMs are pretrained on human numbers at the char LM's default size (--hidden) for one epoch
(their quality does not change the cost of reading them); the tagger trains on
human-numbers-roles.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab_tagging.charlm import CharLMReader


def seqlab(*args) -> float:
    """`seqlab ARGS` in this process; its CPU seconds."""
    start = time.process_time()
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exit_code != 0:
        raise SystemExit(f"seqlab {' '.join(map(str, args))} failed:\n{result.output[-2000:]}")
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=512, help="the char LMs' hidden size")
    ap.add_argument("--epochs", type=int, default=5, help="the tagger's epochs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="frozen-lms-"))
    lm = ["pretrain", "human-numbers", "--level", "char", "--hidden", args.hidden]
    lm += ["--layers", "1", "--epochs", "1", "--quiet"]
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        print(
            f"pretraining the {name} char LM: {seqlab(*lm, *extra, '--out', work / name):.0f} CPU s"
        )
    tag = ["finetune", "tag", "human-numbers-roles", "--encoder", work / "fwd"]
    tag += ["--backward-encoder", work / "bwd", "--epochs", args.epochs, "--quiet"]
    remembered = seqlab(*tag, "--out", work / "remembered")
    keep = CharLMReader.remember
    CharLMReader.remember = lambda self, on=True: None  # type: ignore[method-assign]
    try:
        every = seqlab(*tag, "--out", work / "every-epoch")
    finally:
        CharLMReader.remember = keep  # type: ignore[method-assign]
    print(f"\n| LM vectors | tagger train CPU s ({args.epochs} epochs) |\n|---|---|")
    print(f"| read every epoch | {every:.0f} |\n| read once (default) | {remembered:.0f} |")
    print(f"\nread once is {every / remembered:.2f}x faster (char LMs hidden {args.hidden})")


if __name__ == "__main__":
    main()
