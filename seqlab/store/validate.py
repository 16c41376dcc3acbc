"""Model files are checked before anything is built from them.

A checkpoint (NAME.json beside NAME.safetensors), a run's config.json or a model directory
may have been edited, truncated, swapped or written by someone else. Everything that decides
what gets allocated or indexed is checked first, and every failure is one `CheckpointError`
naming the file and the field:

- the weights file is a safetensors file: its header is read here (8 bytes of length, then
  JSON naming each tensor's dtype, shape and byte range) and checked against the file's size,
  so a pickle or `torch.save` file, or a truncated one, is refused before any tensor is read;
- the JSON has the types it should (`check_meta`); every number in the encoder's and head's
  config is bounded by how many weights the file holds, so `"layers": 10**7` or
  `"hidden": 1e9` is refused at once, not after minutes of allocation;
- the core encoder's tensors (names, dtypes and shapes) follow from its config
  (`encoder_shapes`), its vocab size from the vocab; tie aliases name tensors that exist;
- after a model is built, its state dict must match the file tensor for tensor
  (`check_state`): a head config that does not fit its weights is named, not a RuntimeError.

Loading never runs code: safetensors holds only numbers, and the JSON only chooses among
installed classes by name. Run configs (`dataclass_from_json`) and train states
(`check_train_state`) are checked the same way before a resume; the settings dataclasses
check their own types and ranges (seqlab.settings.check); `memory_problem` says when a model
is too big for this machine, before it is allocated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from seqlab.nn.size import GATES
from seqlab.settings import type_problem
from seqlab.store.errors import CheckpointError

# bytes per element of each safetensors dtype
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
TORCH_DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16"}
TORCH_DTYPES |= {"int64": "I64", "int32": "I32", "uint8": "U8", "bool": "BOOL"}

Header = dict[str, tuple[str, tuple[int, ...]]]  # tensor name -> (dtype, shape)


def tensor_header(data: bytes, path: Path) -> Header:
    """The tensors a safetensors file says it holds, checked against its size."""
    refuse = f"{path}: not a safetensors file"
    if len(data) < 8:
        raise CheckpointError(f"{refuse} ({len(data)} bytes); it cannot be loaded")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise CheckpointError(
            f"{refuse} (its first 8 bytes announce a {size:,}-byte header in a "
            f"{len(data):,}-byte file): truncated, or another format (a pickle or torch.save "
            f"file is never loaded)"
        )
    try:
        header = json.loads(data[8 : 8 + size])
    except (ValueError, RecursionError):
        raise CheckpointError(f"{refuse} (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{refuse} (its header is not a JSON object)")
    room = len(data) - 8 - size
    out: Header = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        info = info if isinstance(info, dict) else {}
        dtype: Any = info.get("dtype")
        shape: Any = info.get("shape")
        offsets: Any = info.get("data_offsets")
        if (
            dtype not in DTYPE_SIZES
            or not _ints(shape)
            or not _ints(offsets)
            or len(offsets) != 2
            or not 0 <= offsets[0] <= offsets[1] <= room
            or offsets[1] - offsets[0] != math.prod(shape) * DTYPE_SIZES[dtype]
        ):
            raise CheckpointError(f"{refuse}: tensor {name!r} does not fit in the file")
        out[name] = (dtype, tuple(shape))
    return out


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def header_of(tensors: Mapping[str, Any]) -> Header:
    """The header of tensors already read (torch tensors), as `tensor_header` gives it."""
    return {name: (_dtype(t), tuple(t.shape)) for name, t in tensors.items()}


def _dtype(t: Any) -> str:
    return TORCH_DTYPES.get(str(t.dtype).removeprefix("torch."), str(t.dtype))


def numel(header: Header) -> int:
    return sum(math.prod(shape) for _, shape in header.values())


# -- the checkpoint's JSON ---------------------------------------------------------------------


def check_meta(meta: Any, path: Path, header: Header | None = None) -> None:
    """The fields of a model checkpoint's JSON (what predict and load_model use), and with
    the weights' `header` the bounds and shapes that follow from it."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: not a seqlab checkpoint (not a JSON object)")
    _field(meta, "encoder", dict, path)
    _field(meta, "head", dict, path)
    _field(meta["head"], "kind", str, path, "head.kind")
    _field(meta["head"], "config", dict, path, "head.config")
    _field(meta, "encoder_kind", str, path, required=False)
    _field(meta, "aliases", dict, path, required=False)
    for key in ("vocab", "labels"):
        value = meta.get(key)
        if key in meta and not (
            isinstance(value, list) and value and all(isinstance(t, str) for t in value)
        ):
            raise CheckpointError(f"{path}: field {key!r} must be a non-empty list of strings")
    if "vocab" not in meta:
        raise CheckpointError(f"{path}: missing field 'vocab'")
    if len(set(meta["vocab"])) != len(meta["vocab"]):
        raise CheckpointError(f"{path}: field 'vocab' names a token twice")
    n_classes = meta["head"]["config"].get("n_classes")
    if "labels" in meta and n_classes is not None and n_classes != len(meta["labels"]):
        raise CheckpointError(
            f"{path}: field 'labels' has {len(meta['labels'])} labels, head.config.n_classes "
            f"says {n_classes}"
        )
    for key, token in (("pad_idx", "xxpad"), ("bos_idx", "xxbos")):  # the vocab's, always
        value = meta["encoder"].get(key)
        if value is not None and token in meta["vocab"] and value != meta["vocab"].index(token):
            raise CheckpointError(
                f"{path}: field 'encoder.{key}' is {_short(value)}, the vocab has {token} at "
                f"{meta['vocab'].index(token)}"
            )
    if header is None:
        return
    for name, twin in meta.get("aliases", {}).items():
        if not isinstance(twin, str) or twin not in header or name in header:
            raise CheckpointError(
                f"{path}: field 'aliases': {name!r} -> {twin!r} does not name a stored tensor"
            )
    bound = max(numel(header), len(meta["vocab"]))
    for where in ("encoder", "head"):
        check_sizes(meta[where], bound, path, where)
    if meta.get("encoder_kind") in (None, "stateful"):
        weights = {k[len("encoder.") :]: v for k, v in header.items() if k.startswith("encoder.")}
        config = encoder_config(meta["encoder"], path)
        if config.vocab_size != len(meta["vocab"]):
            raise CheckpointError(
                f"{path}: field 'encoder.vocab_size' is {config.vocab_size}, the vocab has "
                f"{len(meta['vocab'])} tokens"
            )
        check_shapes(weights, encoder_shapes(config), path, "encoder.")


def _field(
    d: dict, key: str, kind: type, path: Path, name: str | None = None, required: bool = True
) -> None:
    if key not in d:
        if required:
            raise CheckpointError(f"{path}: missing field {name or key!r}")
        return
    if not isinstance(d[key], kind) and not (d[key] is None and key == "encoder_kind"):
        raise CheckpointError(
            f"{path}: field {name or key!r} must be a JSON {_json_name(kind)}, got {_short(d[key])}"
        )


def _json_name(kind: type) -> str:
    return {dict: "object", list: "array", str: "string", bool: "true/false"}.get(kind, "number")


def _short(value: Any) -> str:
    text = json.dumps(value)  # values read from JSON; NaN and Infinity as JSON spells them
    return text if len(text) <= 40 else text[:37] + "..."


def check_sizes(config: Any, bound: int, path: Path, where: str) -> None:
    """Every number in `config` (nested objects and arrays too) is at most `bound`, the
    number of weights the file holds: a size larger than that cannot describe these
    weights, and building it first would allocate it."""
    todo = [(where, config)]
    while todo:
        name, value = todo.pop()
        if isinstance(value, dict):
            todo += [(f"{name}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if not abs(value) <= bound:  # NaN too
                raise CheckpointError(
                    f"{path}: field {name!r} is {_short(value)}, more than the {bound:,} "
                    f"weights of this checkpoint allow"
                )


def encoder_config(values: Any, path: Path, field: str = "encoder"):
    """The core encoder's EncoderConfig from JSON, every field of the right type and range."""
    from seqlab.nn.encoder import EncoderConfig

    return dataclass_from_json(EncoderConfig, values, path, field)


def encoder_shapes(config) -> Header:
    """The tensors of a StatefulEncoder built from `config`: name -> (dtype, shape)."""
    h, g = config.hidden, GATES[config.cell]
    out: Header = {"embedding.weight": ("F32", (config.vocab_size, config.emb_dim))}
    for i in range(config.layers):
        n_in = config.emb_dim if i == 0 else h
        out[f"rnns.{i}.weight_ih_l0"] = ("F32", (g * h, n_in))
        out[f"rnns.{i}.weight_hh_l0"] = ("F32", (g * h, h))
        out[f"rnns.{i}.bias_ih_l0"] = ("F32", (g * h,))
        out[f"rnns.{i}.bias_hh_l0"] = ("F32", (g * h,))
    if config.bn:
        for name in ("weight", "bias", "running_mean", "running_var"):
            out[f"bn.{name}"] = ("F32", (h,))
        out["bn.num_batches_tracked"] = ("I64", ())
    return out


def weights_name(path: Path) -> str:
    """The tensor file that goes with the JSON `path`: NAME.safetensors beside a checkpoint's
    NAME.json, model.safetensors beside an exported model directory's config.json."""
    return (
        "model.safetensors" if path.name == "config.json" else path.with_suffix(".safetensors").name
    )


def check_shapes(got: Mapping[str, tuple[str, tuple]], want: Mapping, path: Path, prefix: str):
    """The stored tensors `got` are exactly `want`: names, shapes, and dtypes (floating
    point weights may be stored in any float dtype; loading converts them)."""
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    weights = weights_name(path)
    if missing:
        raise CheckpointError(
            f"{path}: the config needs a tensor {prefix}{missing[0]} that {weights} lacks"
        )
    if extra:
        raise CheckpointError(
            f"{path}: {weights} holds a tensor {prefix}{extra[0]} the config has no place for"
        )
    for name, (dtype, shape) in want.items():
        have_dtype, have_shape = got[name]
        if tuple(have_shape) != tuple(shape):
            raise CheckpointError(
                f"{path}: tensor {prefix}{name} of {weights} has shape {list(have_shape)}, the "
                f"config makes it {list(shape)}"
            )
        if have_dtype != dtype and not (have_dtype in FLOATS and dtype in FLOATS):
            raise CheckpointError(
                f"{path}: tensor {prefix}{name} of {weights} is {have_dtype}, not {dtype}"
            )


FLOATS = {"F16", "BF16", "F32", "F64"}


def check_state(model, tensors: Mapping, path: Path) -> None:
    """A built model's state dict against the tensors read for it (aliases resolved)."""
    check_shapes(header_of(tensors), header_of(model.state_dict()), path, "")


def check_arguments(func: Any, values: Mapping[str, Any], field: str) -> None:
    """`values` (from JSON) fit the parameters of `func` by name and annotated type (a head's
    config for its `__init__`): a ValueError naming `field.KEY` otherwise."""
    import inspect

    params = inspect.signature(func).parameters
    open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for key, value in values.items():
        if key not in params:
            if open_ended:
                continue
            raise ValueError(f"'{field}.{key}' is not a setting here")
        annotation = params[key].annotation
        problem = None if annotation is inspect.Parameter.empty else type_problem(annotation, value)
        if problem:
            raise ValueError(f"'{field}.{key}' {problem}")


# -- run configs -------------------------------------------------------------------------------


def dataclass_from_json(cls: type, values: Any, path: Path, field: str) -> Any:
    """`cls(**values)` for a settings-like dataclass read from a run's JSON: an object, only
    known keys, each of its declared type, then the class's own range checks."""
    if not isinstance(values, dict):
        raise CheckpointError(f"{path}: field {field!r} must be a JSON object")
    known = {f.name: f for f in fields(cls)}
    for key, value in values.items():
        if key not in known:
            raise CheckpointError(f"{path}: field '{field}.{key}' is not a setting of {field}")
        problem = type_problem(known[key].type, value)
        if problem:
            raise CheckpointError(f"{path}: field '{field}.{key}' {problem}")
    for name, f in known.items():
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            raise CheckpointError(f"{path}: missing field '{field}.{name}'")
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: field {field!r}: {e}") from None


def check_train_state(tensors: Mapping[str, Any], state: Any, path: Path) -> None:
    """train_state.json (and its tensors) as `Trainer.load_last` reads them: the position,
    the loss sums, the history and the optimizer's and schedule's saved fields."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a seqlab train state (not a JSON object)")
    kinds: dict[str, Any] = {
        "epoch": int, "step": int, "partial_loss": list, "history": list,
        "batch_losses": list, "param_groups": list, "scheduler": dict,
    }  # fmt: skip
    for key, kind in kinds.items():
        value = state.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{path}: field {key!r} missing or not a JSON {_json_name(kind)}")
    if state["epoch"] < 0 or state["step"] < 0:
        raise CheckpointError(f"{path}: fields 'epoch' and 'step' must be at least 0")
    loss = state["partial_loss"]
    if len(loss) != 2 or not all(_number(v) for v in loss):
        raise CheckpointError(f"{path}: field 'partial_loss' must be two numbers")
    if not all(isinstance(r, dict) for r in state["history"]):
        raise CheckpointError(f"{path}: field 'history' must be a list of objects")
    if not all(_number(v) for v in state["batch_losses"]):
        raise CheckpointError(f"{path}: field 'batch_losses' must be a list of numbers")
    if not all(isinstance(g, dict) and "params" in g for g in state["param_groups"]):
        raise CheckpointError(f"{path}: field 'param_groups' must be the optimizer's groups")
    cycles = state.get("cycles", [1])
    if not isinstance(cycles, list) or not all(isinstance(c, int) and c > 0 for c in cycles):
        raise CheckpointError(f"{path}: field 'cycles' must be a list of positive whole numbers")
    if "rng.torch" not in tensors:
        raise CheckpointError(f"{path.with_suffix('.safetensors')}: no tensor 'rng.torch'")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
