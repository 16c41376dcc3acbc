"""The `seqlab.lms` entry point: a shipped LM's checkpoint, checked before it is read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from seqlab.store.errors import CheckpointError
from seqlab_english import shipped

HERE = Path(__file__).parent / "lms"


def direction(backward: bool) -> str:
    return "backward" if backward else "forward"


def verify(stem: Path) -> None:
    """Refuse a shipped file whose sha256 is not the one recorded when it was built."""
    for ext in (".json", ".safetensors"):
        path = stem.with_suffix(ext)
        if not path.is_file():
            raise CheckpointError(f"{path}: a shipped LM file is missing; reinstall seqlab")
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != shipped.SHA256[path.name]:
            raise CheckpointError(
                f"{path}: sha256 {got[:12]}... is not the shipped file's "
                f"({shipped.SHA256[path.name][:12]}...); it was changed or damaged, reinstall "
                f"seqlab"
            )


def english(backward: bool = False, root: Path = HERE) -> Path:
    """The checkpoint stem of the English character LM reading in that direction."""
    stem = root / direction(backward)
    verify(stem)
    return stem
