"""Ways to break a stored file: JSON edits (deletions, wrong types, huge values, junk files) and
byte corruptions of safetensors weights (cut, flipped, replaced by a pickle or torch.save)."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
