"""Training a language model as its run config says: the model, the Trainer, resume.

A run is fully described by its config.json (corpus, level, data, encoder, head, training),
so `resume` rebuilds exactly the same model and data and continues where `last` stopped.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from seqlab import SeqModel, TrainConfig, Trainer, encoder_from_config, seed_everything
from seqlab.data.files import atomic_write
from seqlab.settings import field_problem
from seqlab.store import validate
from seqlab.store.checkpoint import load_tensors, read_json
from seqlab.store.errors import CheckpointError
from seqlab.train import distributed
from seqlab.train.lr_find import LRFinding, lr_find
from seqlab.train.runlog import RunLog
from seqlab_lm import init
from seqlab_lm.data import build_data
from seqlab_lm.head import LMHead
from seqlab_lm.settings import PretrainSettings

# What a checkpoint's JSON carries of the run config, beside the vocab: enough to rebuild the
# model, and to tell a char LM from a word LM ("level"; absent means word) when fine-tuning.
META_KEYS = ("corpus", "level", "model", "data", "encoder_kind", "encoder", "head")


def build_model(config: dict[str, Any]) -> SeqModel:
    encoder = encoder_from_config(config["encoder"], config.get("encoder_kind"))
    return SeqModel(encoder, LMHead(encoder, **config["head"]["config"]))


def saved_config(run_dir: Path) -> dict[str, Any]:
    """The config of the run in `run_dir`, checked to be resumable before any work."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ValueError(f"--resume {run_dir}: no config.json there; is it a run directory?")
    config = read_json(path, "seqlab run config")
    tensors, state = load_tensors(Path(run_dir) / "train_state")  # fail early on a broken run
    validate.check_train_state(tensors, state, Path(run_dir) / "train_state.json")
    check_config(config, path, Path(run_dir) / "last")
    return config


def check_config(config: Any, path: Path, last: Path) -> None:
    """A run config read back from disk, before anything is built from it: the types and
    ranges of its settings, and a model that is the one its `last` checkpoint holds (so its
    sizes are bounded by real weights, and a config swapped in from another run is caught)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: not a seqlab run config (not a JSON object)")
    for key, kind in (("corpus", str), ("data", dict), ("encoder", dict), ("head", dict)):
        if not isinstance(config.get(key), kind):
            raise CheckpointError(f"{path}: field {key!r} missing or not a JSON {kind.__name__}")
    for key, kind in (("text", dict), ("init", dict), ("model", str)):
        if config.get(key) is not None and not isinstance(config[key], kind):
            raise CheckpointError(f"{path}: field {key!r} must be a JSON {kind.__name__}")
    if config.get("level", "word") not in ("word", "char"):
        raise CheckpointError(f"{path}: field 'level' must be word or char")
    validate.dataclass_from_json(TrainConfig, config.get("train"), path, "train")
    known = {f.name: f for f in fields(PretrainSettings)}
    for key in ("bs", "bptt", "layout", "random_bptt"):
        if key not in config["data"]:
            raise CheckpointError(f"{path}: missing field 'data.{key}'")
    for key, value in config["data"].items():
        problem = field_problem(known[key], value) if key in known else "is not a data setting"
        if problem:
            raise CheckpointError(f"{path}: field 'data.{key}' {problem}")
    tensors, meta = load_tensors(last)
    validate.check_meta(meta, last.with_suffix(".json"), validate.header_of(tensors))
    for key in ("encoder", "head"):
        if config[key] != meta.get(key):
            raise CheckpointError(
                f"{path}: field {key!r} differs from the one in {last.name}.json; the run "
                f"config was edited or comes from another run"
            )


def run(config: dict[str, Any], out: Path, resume: bool = False, **trainer_options) -> list[dict]:
    """Train as `config` says, in `out`; `trainer_options` go to the Trainer."""
    train_cfg = TrainConfig(**config["train"])
    seed_everything(train_cfg.seed)
    train, valid, vocab = build_data(config)
    model = build_model(config)
    if config.get("init"):  # stage (b): the --init LM's weights, discriminative lrs
        if not resume:
            init.load_weights(model, config, vocab)
        trainer_options.setdefault("lr_mults", init.lr_mults(model, config))
    meta = {k: config[k] for k in META_KEYS if k in config}
    meta["vocab"] = vocab.itos
    trainer = Trainer(model, train, valid, train_cfg, run_dir=out, meta=meta, **trainer_options)
    if resume:
        trainer.load_last(out)
    elif distributed.is_main():
        atomic_write(out / "config.json", json.dumps(config, indent=1))
    distributed.seed_rank(train_cfg.seed, trainer.epoch, trainer.step)  # own dropout per rank
    return trainer.fit()


def find_lr(config: dict[str, Any]) -> LRFinding:
    """The learning-rate finder on the model and data `config` describes; nothing is written."""
    train_cfg = replace(TrainConfig(**config["train"]), epochs=1, tensorboard=False)
    seed_everything(train_cfg.seed)
    train, valid, vocab = build_data(config)
    model, lr_mults = build_model(config), None
    if config.get("init"):  # as the run would start: the --init LM, discriminative lrs
        init.load_weights(model, config, vocab)
        lr_mults = init.lr_mults(model, config)
    trainer = Trainer(model, train, valid, train_cfg, lr_mults=lr_mults, log=RunLog(quiet=True))
    return lr_find(trainer)
