"""Checkpoints: weights in safetensors (loading never runs code) + a JSON file beside them.

`NAME.safetensors` holds tensors; `NAME.json` holds everything else: format version,
library versions, the model config (encoder, head kind and config), the vocab, and
the sha256 of the tensor file, so a pair from two different saves is caught on load.
Every file is written to a temporary file, flushed, fsynced and renamed: a crash
leaves the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor, nn

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, corrupt, or of another format."""


def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.cache
def seqlab_version() -> str:
    """The installed distribution's version: from its metadata, not the package root, so
    the core modules never import `seqlab/__init__` (and all it pulls in) for one string."""
    try:
        return metadata.version("seqlab")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, never installed
        return "0+unknown"


def versions() -> dict[str, str]:
    return {
        "seqlab": seqlab_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def save_tensors(stem: Path, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    """Write STEM.safetensors and STEM.json (tensors first; the JSON names their hash)."""
    data = st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    atomic_write(stem.with_suffix(".safetensors"), data)
    meta = {
        "format": FORMAT_VERSION,
        "versions": versions(),
        "sha256": hashlib.sha256(data).hexdigest(),
        **meta,
    }
    atomic_write(stem.with_suffix(".json"), json.dumps(meta, indent=1))


def read_json(path: Path, what: str = "seqlab checkpoint") -> Any:
    """A JSON file of a run; a missing or unreadable one is a CheckpointError naming it."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a {what} ({e})") from None


def load_tensors(stem: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    stem = Path(stem)
    weights, meta_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for p in (weights, meta_path):
        if not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file")
    meta = read_json(meta_path)
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path}: checkpoint format {meta.get('format')!r}, this seqlab reads "
            f"{FORMAT_VERSION}; load it with the seqlab version that wrote it"
        )
    data = weights.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"{weights}: contents do not match {meta_path.name} (sha256)")
    return st_load(data), meta


def model_tensors(model: nn.Module) -> tuple[dict[str, Tensor], dict[str, str]]:
    """The state dict with tied parameters stored once; aliases map a dropped key to its twin."""
    tensors: dict[str, Tensor] = {}
    aliases: dict[str, str] = {}
    owner: dict[tuple[int, int, tuple], str] = {}
    for name, t in model.state_dict().items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if t.numel() and key in owner:
            aliases[name] = owner[key]
        else:
            owner[key] = name
            tensors[name] = t
    return tensors, aliases


def load_model_tensors(model: nn.Module, tensors: dict[str, Tensor], aliases: dict[str, str]):
    full = dict(tensors)
    full.update({name: tensors[twin] for name, twin in aliases.items()})
    model.load_state_dict(full, strict=True)


def save_model(stem: Path, model: nn.Module, meta: dict[str, Any]) -> None:
    """A model checkpoint: weights + `meta` (which should hold config and vocab)."""
    tensors, aliases = model_tensors(model)
    save_tensors(stem, tensors, {**meta, "aliases": aliases})


def load_model(stem: Path):
    """Rebuild a SeqModel from a checkpoint: (model, vocab, meta). The head class (and a
    plugin's encoder class, named by "encoder_kind") is found through the plugin registry."""
    from seqlab.encoder import encoder_from_config
    from seqlab.model import SeqModel
    from seqlab.registry import head_class
    from seqlab.vocab import Vocab

    tensors, meta = load_tensors(stem)
    try:
        encoder = encoder_from_config(meta["encoder"], meta.get("encoder_kind"))
        head = head_class(meta["head"]["kind"]).from_config(meta["head"]["config"], encoder)
        vocab = Vocab(meta["vocab"])
    except KeyError as e:
        raise CheckpointError(f"{Path(stem).with_suffix('.json')}: missing field {e}") from None
    model = SeqModel(encoder, head)
    load_model_tensors(model, tensors, meta.get("aliases", {}))
    return model, vocab, meta
