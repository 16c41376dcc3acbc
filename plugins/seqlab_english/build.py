"""How the shipped files were made (run once by a maintainer, not by users):

    python -m seqlab_english.build runs/english-forward runs/english-backward

takes each run's `last` checkpoint (the last epoch: `best` was picked on the valid text the
card's figures are measured on), stores its weights as float16, writes lms/forward.* and
lms/backward.*, measures bits per character on lms/heldout.txt with the float32 and the
float16 weights, and records the files' sha256 and the figures in shipped.py.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch

from seqlab.store.checkpoint import floats_as, load_tensors, save_tensors
from seqlab_english.score import SAMPLE, bits_per_char  # not .lms: it reads shipped.py

HERE = SAMPLE.parent

SHIPPED = Path(__file__).parent / "shipped.py"


def half(run: Path, stem: Path) -> None:
    tensors, meta = load_tensors(run / "last")
    tensors = floats_as(tensors, torch.float16)
    keep = {k: v for k, v in meta.items() if k not in ("sha256", "generation")}
    save_tensors(stem, tensors, keep)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m seqlab_english.build FORWARD_RUN BACKWARD_RUN", file=sys.stderr)
        return 2
    text = SAMPLE.read_text(encoding="utf-8")
    bpc, sha = {}, {}
    for run, direction in ((Path(argv[0]), "forward"), (Path(argv[1]), "backward")):
        stem = HERE / direction
        half(run, stem)
        full, stored = bits_per_char(run / "last", text), bits_per_char(stem, text)
        print(f"{direction}: {full:.4f} bpc in float32, {stored:.4f} in float16")
        bpc[direction] = round(stored, 4)
        for ext in (".json", ".safetensors"):
            path = stem.with_suffix(ext)
            sha[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    SHIPPED.write_text(
        '"""Written by seqlab_english.build: what the shipped files must be."""\n\n'
        f"SHA256 = {sha!r}\n\n"
        "# bits per character of the float16 weights on lms/heldout.txt\n"
        f"BPC = {bpc!r}\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
