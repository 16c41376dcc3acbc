"""Training a language model as its run config says: the model, the Trainer, resume.

A run is fully described by its config.json (corpus, level, data, encoder, head, training),
so `resume` rebuilds exactly the same model and data and continues where `last` stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqlab import SeqModel, TrainConfig, Trainer, distributed, encoder_from_config, seed_everything
from seqlab.checkpoint import atomic_write, load_tensors
from seqlab_lm.data import build_data
from seqlab_lm.head import LMHead

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
    config = json.loads(path.read_text(encoding="utf-8"))
    load_tensors(Path(run_dir) / "train_state")  # fail early, clearly, on a broken run
    return config


def run(config: dict[str, Any], out: Path, resume: bool = False, **trainer_options) -> list[dict]:
    """Train as `config` says, in `out`; `trainer_options` go to the Trainer."""
    train_cfg = TrainConfig(**config["train"])
    seed_everything(train_cfg.seed)
    train, valid, vocab = build_data(config)
    model = build_model(config)
    meta = {k: config[k] for k in META_KEYS if k in config}
    meta["vocab"] = vocab.itos
    trainer = Trainer(model, train, valid, train_cfg, run_dir=out, meta=meta, **trainer_options)
    if resume:
        trainer.load_last(out)
    elif distributed.is_main():
        atomic_write(out / "config.json", json.dumps(config, indent=1))
    distributed.seed_rank(train_cfg.seed, trainer.epoch, trainer.step)  # own dropout per rank
    return trainer.fit()
