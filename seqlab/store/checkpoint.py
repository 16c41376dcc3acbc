"""Checkpoints: weights in safetensors (loading never runs code) + a JSON file beside them.

`NAME.safetensors` holds tensors; `NAME.json` holds everything else: format version,
library versions, the model config (encoder, head kind and config), the vocab, and
the sha256 of the tensor file, so a pair from two different saves is caught on load.

Checkpoints saved together (a run's best, last and train_state) are committed as a unit:
each is written as NAME.next.safetensors + NAME.next.json (temporary file, fsync, rename),
then `checkpoints.json`, the manifest naming every current file's sha256, replaces the old
one (the commit), and only then do the .next files take the usual names. A crash before
the commit leaves the previous checkpoints untouched (the .next files are ignored, with a
warning, and removed by the next save); a crash after it leaves .next files the manifest
names, which loading reads in place of the older ones and the next save renames. So a
kill at any moment leaves the last committed set loadable, and whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor, nn

from seqlab.data.files import atomic_write, fsync_dir
from seqlab.store.errors import CheckpointError

FORMAT_VERSION = 1


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
    """Write STEM.safetensors and STEM.json (the JSON names the tensors' hash), committed."""
    stem = Path(stem)
    save_checkpoints(stem.parent, {stem.name: (tensors, meta)})


# -- committing several checkpoints as one unit -----------------------------------------------

MANIFEST = "checkpoints.json"
PENDING = ".next"  # NAME.next.EXT: written, waiting for (or just past) its commit
EXTS = (".safetensors", ".json")

Part = tuple[dict[str, Tensor], dict[str, Any]]  # (tensors, meta) of one checkpoint


def _path(directory: Path, name: str, ext: str, pending: bool = False) -> Path:
    return directory / f"{name}{PENDING if pending else ''}{ext}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, bytes]:
    data = st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    meta = {"format": FORMAT_VERSION, "versions": versions(), "sha256": _sha(data), **meta}
    return {".safetensors": data, ".json": json.dumps(meta, indent=1).encode("utf-8")}


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The directory's commit record, or None (a run saved before manifests existed)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    manifest = read_json(path, "seqlab checkpoint manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(f"{path}: not a seqlab checkpoint manifest")
    return manifest


def save_checkpoints(directory: Path, parts: dict[str, Part]) -> None:
    """Commit the checkpoints NAME -> (tensors, meta) in `directory` as one unit: after a
    crash at any moment, loading finds all of them or the previous ones, never a mix. Each
    JSON gets the commit's "generation" (last and train_state of one save share it)."""
    directory = Path(directory)
    try:
        manifest = finish_commit(directory)
        generation = int(manifest.get("generation", 0)) + 1
        files = dict(manifest["files"])
        for name, (tensors, meta) in parts.items():
            for ext, raw in _encode(tensors, {**meta, "generation": generation}).items():
                atomic_write(_path(directory, name, ext, pending=True), raw)
                files[name + ext] = _sha(raw)
        record = {"format": FORMAT_VERSION, "generation": generation, "files": files}
        atomic_write(directory / MANIFEST, json.dumps(record, indent=1))  # the commit
    except OSError as e:
        raise CheckpointError(
            f"{directory}: cannot save {', '.join(parts)} ({e.strerror or e}); the checkpoints "
            "saved before are kept"
        ) from None
    for name in parts:  # publish: the usual names now hold the committed files
        for ext in EXTS:
            os.replace(_path(directory, name, ext, pending=True), _path(directory, name, ext))
    fsync_dir(directory)


def finish_commit(directory: Path) -> dict[str, Any]:
    """Before a new save (the writer only): rename the .next files of the last commit to
    their usual names, delete those of a save that never committed and any temporary file
    a killed write left; return the manifest ({"generation": 0, "files": {}} if none)."""
    manifest = read_manifest(directory) or {"generation": 0, "files": {}}
    for path in sorted(directory.glob(f"*{PENDING}.*")):
        key = _committed_name(path)
        if key is None:
            continue
        if manifest["files"].get(key) == _sha(path.read_bytes()):
            os.replace(path, directory / key)
        else:
            path.unlink()
    for path in directory.glob(".*.tmp"):  # atomic_write's, from a killed process
        path.unlink(missing_ok=True)
    fsync_dir(directory)
    return manifest


def _committed_name(pending: Path) -> str | None:
    """NAME.next.EXT -> NAME.EXT (None for any other file)."""
    for ext in EXTS:
        if pending.name.endswith(PENDING + ext):
            return pending.name[: -len(PENDING + ext)] + ext
    return None


def committed_file(stem: Path, ext: str) -> Path:
    """The file that holds checkpoint STEM's EXT part as last committed: STEM.next.EXT when
    a commit named it and its renaming did not happen (a crash), else STEM.EXT. A .next file
    that was never committed is ignored, and said so on stderr."""
    stem = Path(stem)
    pending = _path(stem.parent, stem.name, ext, pending=True)
    if pending.is_file():
        manifest = read_manifest(stem.parent) or {"files": {}}
        if manifest["files"].get(stem.name + ext) == _sha(pending.read_bytes()):
            return pending
        print(
            f"warning: {pending}: a save that did not finish (stopped, killed or out of disk "
            f"space); using the checkpoint committed before it",
            file=sys.stderr,
        )
    return _path(stem.parent, stem.name, ext)


def has_checkpoint(stem: Path) -> bool:
    """Whether a committed checkpoint STEM exists (its JSON, under either name)."""
    stem = Path(stem)
    pending = _path(stem.parent, stem.name, ".json", pending=True)
    return _path(stem.parent, stem.name, ".json").is_file() or (
        pending.is_file() and committed_file(stem, ".json") == pending
    )


def read_json(path: Path, what: str = "seqlab checkpoint") -> Any:
    """A JSON file of a run; a missing or unreadable one is a CheckpointError naming it."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise CheckpointError(f"{path}: not a {what} (nested too deeply)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a {what} ({e})") from None


def load_tensors(stem: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    stem = Path(stem)
    weights, meta_path = committed_file(stem, ".safetensors"), committed_file(stem, ".json")
    for p in (weights, meta_path):
        if not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file")
    meta = read_json(meta_path)
    if not isinstance(meta, dict):
        raise CheckpointError(f"{meta_path}: not a seqlab checkpoint (not a JSON object)")
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path}: checkpoint format {meta.get('format')!r}, this seqlab reads "
            f"{FORMAT_VERSION}; load it with the seqlab version that wrote it"
        )
    data = weights.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"{weights}: contents do not match {meta_path.name} (sha256)")
    from seqlab.store.validate import tensor_header

    tensor_header(data, weights)  # a pickle or a truncated file is refused before parsing
    try:
        return st_load(data), meta
    except Exception as e:  # noqa: BLE001 - any parse failure of a file we did not write
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from None


def floats_as(tensors: dict[str, Tensor], dtype: torch.dtype = torch.float32) -> dict[str, Tensor]:
    """Floating tensors in `dtype`, integer ones as they are: float32, the dtype models compute
    in, reads 16-bit storage (the shipped LMs'); float16 writes it (seqlab_english.build)."""
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}


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
    stem = Path(stem)
    save_checkpoints(stem.parent, {stem.name: model_part(model, meta)})


def model_part(model: nn.Module, meta: dict[str, Any]) -> Part:
    """A model checkpoint as (tensors, meta), for `save_checkpoints`."""
    tensors, aliases = model_tensors(model)
    return tensors, {**meta, "aliases": aliases}


def load_model(stem: Path):
    """Rebuild a SeqModel from a checkpoint: (model, vocab, meta). The head class (and a
    plugin's encoder class, named by "encoder_kind") is found through the plugin registry."""
    tensors, meta = load_tensors(stem)
    model, vocab = model_from(meta, tensors, Path(stem).with_suffix(".json"))
    return model, vocab, meta


def _aliased(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Tensor]:
    return {name: tensors[twin] for name, twin in meta.get("aliases", {}).items()}


def model_from(meta: dict[str, Any], tensors: dict[str, Tensor], where: Path):
    """(SeqModel, Vocab) from a checkpoint's JSON and tensors (also an exported model
    directory's, seqlab.store.modeldir); `where` names the file in errors."""
    from seqlab.data.vocab import Vocab
    from seqlab.nn.encoder import encoder_from_config
    from seqlab.nn.model import SeqModel
    from seqlab.registry import head_class
    from seqlab.store import validate

    validate.check_meta(meta, where, validate.header_of(tensors))  # before any allocation
    try:
        encoder = encoder_from_config(meta["encoder"], meta.get("encoder_kind"))
        head_cls = head_class(meta["head"]["kind"])
        validate.check_arguments(head_cls.__init__, meta["head"]["config"], "head.config")
        head = head_cls.from_config(meta["head"]["config"], encoder)
        vocab = Vocab(meta["vocab"])
    except KeyError as e:
        raise CheckpointError(f"{where}: missing field {e}") from None
    # A plugin's config: what its classes refuse, and what torch refuses to build from it
    # (a negative size, a padding index out of range)
    except (TypeError, ValueError, AttributeError, LookupError, RuntimeError, AssertionError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{where}: field 'encoder' or 'head': {first}") from None
    model = SeqModel(encoder, head)
    validate.check_state(model, {**tensors, **_aliased(tensors, meta)}, where)
    try:
        load_model_tensors(model, tensors, meta.get("aliases", {}))
    except (RuntimeError, KeyError) as e:  # names or shapes that do not fit the config
        first = str(e).strip().splitlines()[0][:200]
        raise CheckpointError(
            f"{where}: the weights do not fit the model it describes ({first})"
        ) from None
    return model, vocab
