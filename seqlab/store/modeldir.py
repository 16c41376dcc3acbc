"""The exported model directory: a trained model others can load, Hugging Face style.

    DIR/config.json          what the model is (architecture, head, labels), "seqlab_format"
    DIR/model.safetensors    the weights (tensor names: docs/python.md), metadata filled
    DIR/tokenizer.json       word models: the vocab as a Hugging Face WordLevel tokenizer
    DIR/vocab.json           character models: the character table, {"itos": [...]}
    DIR/README.md            the model card: data, settings, scores, licence note

It needs no run directory and no token cache: everything a checkpoint's JSON holds beside the
weights is in config.json, the vocab in tokenizer.json (or vocab.json). Reading one never runs
code (JSON and safetensors only, no pickle), and a malformed directory is a one-line
`CheckpointError` naming the file and what is wrong. `write` writes config.json last, each file
atomically, so a directory with a config.json is complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor, nn

from seqlab.data.files import atomic_write
from seqlab.data.vocab import BOS, PAD, UNK, Vocab
from seqlab.store import validate
from seqlab.store.checkpoint import model_from, model_tensors, read_json, seqlab_version, versions
from seqlab.store.errors import CheckpointError

SEQLAB_FORMAT = 1
CONFIG, WEIGHTS, TOKENIZER, CHARS, CARD = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "vocab.json",
    "README.md",
)
# What config.json carries of a checkpoint's JSON: everything a predictor reads (the vocab
# goes to tokenizer.json / vocab.json; versions, hashes and the epoch stay with the run).
KEYS: tuple[str, ...] = ("task", "level", "corpus", "model", "encoder_kind", "encoder", "head")
KEYS += ("labels", "data", "tag_data", "transfer")
MAX_CONFIG_BYTES = 64 << 20  # a tagger's feature vocabs are large; a bigger config is not ours


def is_model_dir(path: Path) -> bool:
    """A directory that holds model.safetensors, or a config.json that says it is an exported
    seqlab model (a run directory has neither): `read` it, or say what is wrong with it."""
    path = Path(path)
    return (path / WEIGHTS).is_file() or _says_seqlab(path / CONFIG)


def is_export(directory: Path) -> bool:
    """An earlier export (its config.json says so), or one cut short before its config.json."""
    directory = Path(directory)
    return _says_seqlab(directory / CONFIG) or (
        (directory / WEIGHTS).is_file() and not (directory / CONFIG).exists()
    )


def _says_seqlab(config: Path) -> bool:
    if not config.is_file() or config.stat().st_size > MAX_CONFIG_BYTES:
        return False
    try:
        return "seqlab_format" in json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False


def write(
    directory: Path,
    model: nn.Module,
    vocab: Vocab,
    meta: dict[str, Any],
    training: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Export `model` (with the checkpoint JSON `meta` it was loaded with) into `directory`:
    a new or empty one, or an earlier export with `overwrite` (never a folder of other files).
    `training`: what the model card reports (optional): "settings" (the run's), "scores"
    (scores.json), "metrics" (the checkpoint's epoch), "text" (an LM's text files)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{directory}: exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()):
        if not is_export(directory):
            raise ValueError(
                f"{directory}: not empty and not an exported seqlab model; give a new directory"
            )
        if not overwrite:
            raise ValueError(
                f"{directory}: holds an exported model; replace it with overwrite=True "
                f"(`seqlab export-model --overwrite`), or give a new directory"
            )
    directory.mkdir(parents=True, exist_ok=True)
    tensors, aliases = model_tensors(model)
    config = hf_config(vocab, meta, aliases, training or {})
    metadata = {
        "format": "pt",
        "seqlab_format": str(SEQLAB_FORMAT),
        "seqlab_version": seqlab_version(),
        "task": str(config["task"]),
    }
    weights = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    # an earlier export's config.json goes first: until the new one is written, the directory
    # is plainly incomplete, never new weights under an old description
    (directory / CONFIG).unlink(missing_ok=True)
    atomic_write(directory / WEIGHTS, st_save(weights, metadata=metadata))
    stale = CHARS if config["tokenizer"]["file"] == TOKENIZER else TOKENIZER
    (directory / stale).unlink(missing_ok=True)  # from an earlier export of another model
    if config["level"] == "char":
        atomic_write(directory / CHARS, vocab.to_json())
    else:
        atomic_write(directory / TOKENIZER, tokenizer_json(vocab))
    atomic_write(directory / CARD, model_card(config))
    atomic_write(directory / CONFIG, json.dumps(config, indent=1, ensure_ascii=False))
    return directory


def hf_config(
    vocab: Vocab, meta: dict[str, Any], aliases: dict[str, str], training: dict[str, Any]
) -> dict[str, Any]:
    """config.json: Hugging Face's keys where they fit (model_type, architectures,
    id2label/label2id, vocab_size), then what seqlab needs to rebuild the model."""
    task = meta.get("task") or meta.get("head", {}).get("kind", "?")
    level = meta.get("level", "word")
    labels = meta.get("labels") or meta.get("head", {}).get("config", {}).get("tags")
    config: dict[str, Any] = {
        "seqlab_format": SEQLAB_FORMAT,
        "model_type": "seqlab",
        "architectures": [f"SeqModel[{meta.get('encoder_kind') or 'stateful'}+{task}]"],
        "task": task,
        "level": level,
        "vocab_size": len(vocab),
    }
    if labels:
        config["id2label"] = {str(i): label for i, label in enumerate(labels)}
        config["label2id"] = {label: i for i, label in enumerate(labels)}
    config.update({k: meta[k] for k in KEYS if k in meta and k not in ("task", "level")})
    config["tied_weights"] = aliases
    config["tokenizer"] = {
        "file": CHARS if level == "char" else TOKENIZER,
        "level": level,
        "bos_token": BOS,
        "pad_token": PAD,
        "unk_token": UNK,
    }
    config["training"] = training
    config["versions"] = versions()
    return config


def tokenizer_json(vocab: Vocab) -> str:
    """The vocab as a Hugging Face WordLevel tokenizer with seqlab's pre-tokenizer (words
    and runs of punctuation), so `tokenizers.Tokenizer.from_file` reads text as seqlab does."""
    from seqlab.data.wordtokens import WordEncoder

    return WordEncoder(vocab).tok.to_str(pretty=True)


def read(directory: Path) -> tuple[nn.Module, Vocab, dict[str, Any]]:
    """(model, vocab, meta) of an exported model directory; `meta` has the keys of a
    checkpoint's JSON that predictors read. Refuses a malformed directory (CheckpointError)."""
    tensors, meta = read_tensors(directory)
    model, vocab = model_from(meta, tensors, Path(directory) / CONFIG)
    return model, vocab, meta


def read_tensors(directory: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """(tensors, meta) of an exported model directory, as `checkpoint.load_tensors` gives a
    checkpoint's: `meta` with the vocab and the tie aliases (for seqlab.tasks.transfer too)."""
    directory = Path(directory)
    config = read_config(directory)
    config_path = directory / CONFIG
    vocab = read_vocab(directory, config)
    weights_path = directory / WEIGHTS
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: no such file")
    data = weights_path.read_bytes()
    validate.tensor_header(data, weights_path)  # a pickle or a truncated file: refused here
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError) as e:
        raise CheckpointError(f"{weights_path}: not a safetensors file ({e})") from None
    aliases = config.get("tied_weights", {})
    if not isinstance(aliases, dict) or any(t not in tensors for t in aliases.values()):
        missing = (
            sorted(set(map(str, aliases.values())) - set(tensors))[:3]
            if isinstance(aliases, dict)
            else []
        )
        raise CheckpointError(
            f"{config_path}: 'tied_weights' names tensors {weights_path} lacks "
            f"({', '.join(missing) or 'not a mapping'}); are they another model's weights?"
        )
    meta = {k: config[k] for k in KEYS if k in config}
    meta.update(task=config.get("task"), level=config.get("level", "word"), vocab=vocab.itos)
    meta["aliases"] = aliases
    meta["training"] = config.get("training") or {}
    return tensors, meta


def read_config(directory: Path) -> dict[str, Any]:
    """config.json of a model directory, checked to be one this seqlab reads."""
    config_path = Path(directory) / CONFIG
    if config_path.is_file() and config_path.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{config_path}: larger than {MAX_CONFIG_BYTES >> 20} MiB")
    config = read_json(config_path, "seqlab model config")
    if not isinstance(config, dict) or "seqlab_format" not in config:
        raise CheckpointError(f"{config_path}: no 'seqlab_format'; not an exported seqlab model")
    if config["seqlab_format"] != SEQLAB_FORMAT:
        raise CheckpointError(
            f"{config_path}: seqlab_format {config['seqlab_format']!r}, this seqlab reads "
            f"{SEQLAB_FORMAT}; load it with the seqlab version that wrote it"
        )
    for key, kind in (("encoder", dict), ("head", dict), ("tokenizer", dict)):
        if not isinstance(config.get(key), kind):
            raise CheckpointError(f"{config_path}: missing or malformed field {key!r}")
    if not isinstance(config["head"].get("kind"), str):
        raise CheckpointError(f"{config_path}: missing or malformed field 'head.kind'")
    return config


def read_vocab(directory: Path, config: dict[str, Any]) -> Vocab:
    name = config["tokenizer"].get("file")
    if name not in (TOKENIZER, CHARS):
        raise CheckpointError(
            f"{directory / CONFIG}: tokenizer file {name!r} is not one seqlab writes"
        )
    path = directory / name
    data = read_json(path, "tokenizer file")
    try:
        if name == CHARS:
            itos = data["itos"]
        else:
            ids = data["model"]["vocab"]  # WordLevel: token -> id
            if sorted(ids.values()) != list(range(len(ids))):
                raise ValueError(f"its {len(ids)} ids are not 0..{len(ids) - 1}")
            itos = sorted(ids, key=ids.__getitem__)
        if not all(isinstance(t, str) for t in itos):
            raise ValueError("tokens must be strings")
        return Vocab(itos)
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise CheckpointError(f"{path}: not a vocab seqlab can read ({e})") from None


def model_card(config: dict[str, Any]) -> str:
    """README.md: what the model does, on what data, with which settings, how well."""
    training = config.get("training") or {}
    task = {"lm": "language model", "classify": "text classifier", "tag": "sequence tagger"}
    what = task.get(config["task"], config["task"])
    labels = list(config.get("label2id", {}))
    lines = [
        f"# seqlab {config['level']}-level {what}",
        "",
        f"Exported by `seqlab export-model` (seqlab {config['versions']['seqlab']}). Load it with:",
        "",
        "```python",
        "import seqlab",
        'model = seqlab.load("THIS_DIRECTORY")',
        'model.predict(["some text"])',
        "```",
        "",
        'or `seqlab predict THIS_DIRECTORY --text "some text"`.',
        "",
        "## Model",
        "",
        f"- task: {config['task']}; architecture: {config['architectures'][0]}",
        f"- vocabulary: {config['vocab_size']} tokens ({config['tokenizer']['file']})",
    ]
    if labels:
        shown = ", ".join(labels[:30]) + (" ..." if len(labels) > 30 else "")
        lines.append(f"- labels ({len(labels)}): {shown}")
    lines += ["", "## Data", ""]
    lines += [f"- {k}: {v}" for k, v in data_sources(config, training).items()] or ["- unknown"]
    settings = training.get("settings") or {}
    if settings:
        lines += ["", "## Settings", "", "```json", json.dumps(settings, indent=1), "```"]
    scores = training.get("scores") or {}
    if scores:
        lines += ["", "## Scores", ""]
        split = scores.get("split", "?")
        lines.append(f"Best checkpoint on the {split} split ({scores.get('n', '?')} examples):")
        lines.append("")
        lines += [f"- {k}: {v:.4f}" for k, v in scores.get("metrics", {}).items()]
    if training.get("metrics"):
        lines += ["", "## The exported checkpoint's epoch", ""]
        lines += [f"- {k}: {v:.4f}" for k, v in training["metrics"].items()]
    lines += [
        "",
        "## Licence",
        "",
        "seqlab is MIT-licensed. These weights were learnt from the data above and may carry "
        "its licence and its biases: check the data's terms before you share or use them.",
        "",
    ]
    return "\n".join(lines)


def data_sources(config: dict[str, Any], training: dict[str, Any]) -> dict[str, str]:
    settings = training.get("settings") or {}
    out = {}
    for key in ("dataset", "train", "valid", "test"):
        if settings.get(key):
            out[key] = str(settings[key])
    sources = (config.get("data") or {}).get("sources")
    if isinstance(sources, dict):
        out.update({k: str(v) for k, v in sources.items() if k not in out})
    if config.get("corpus"):
        out["corpus"] = str(config["corpus"])
    text = training.get("text") or {}
    if text.get("train"):
        out["text files"] = ", ".join(map(str, text["train"][:10]))
    return out
