"""`seqlab pretrain TEXT --init RUN`: continue from a pretrained LM (ULMFiT's stage (b), the
LM fine-tuned on the task's own texts before the classifier is).

- The architecture (cell, layers, sizes, batch norm) is the LM's; the level (word, char) and
  the direction must be the LM's too, or the run could not reuse its weights.
- The vocab is the LM's followed by the new text's tokens it lacks (transfer.extend_vocab): an
  old token keeps its id and rows; a new one's embedding row and decoder bias start at the mean
  of the LM's (transfer.match_embeddings), a neutral point that training moves.
- Discriminative learning rates: each layer group (embedding, each RNN layer, decoder) trains
  at 1/2.6 of the rate of the group above, so the general knowledge in the lower layers moves
  least; the schedule stays the one-cycle of every run (ULMFiT's slanted triangle is one).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqlab import SeqModel, Vocab
from seqlab.store.checkpoint import floats_as, load_tensors, read_json
from seqlab.tasks import transfer
from seqlab_lm.settings import PretrainSettings

ARCHITECTURE = ("cell", "layers", "hidden", "emb_size", "bn")


def check(pre: transfer.Pretrained, path: Path, settings: PretrainSettings) -> None:
    """The LM of `--init path` must be of the run's level and direction."""
    if pre.level != settings.level:
        fix = "with --level char" if pre.level == "char" else "without --level char"
        raise ValueError(
            f"--init {path}: a {pre.level}-level LM, but this run reads {settings.level}s; "
            f"give a {settings.level}-level LM, or run {fix}"
        )
    if pre.config.backward != settings.backward:
        kind, want = ("backward", "forward") if pre.config.backward else ("forward", "backward")
        fix = "add --backward" if pre.config.backward else "drop --backward"
        raise ValueError(
            f"--init {path}: a {kind} LM, and this run trains a {want} one; {fix}, or give "
            f"a {want} LM"
        )


def settings_for(
    pre: transfer.Pretrained, settings: PretrainSettings, given: set[str], path: Path
) -> PretrainSettings:
    """`settings` with the LM's architecture; another one given on the command line is an
    error (its weights would not fit)."""
    lm = {name: getattr(pre.config, name) for name in ARCHITECTURE}
    for name, value in lm.items():
        if name in given and getattr(settings, name) != value:
            raise ValueError(
                f"--{name.replace('_', '-')} {getattr(settings, name)}: the --init LM {path} "
                f"has {value}; leave it out (the architecture is the LM's)"
            )
    return replace(settings, **lm)


def config_entry(pre: transfer.Pretrained) -> dict[str, Any]:
    """What the run's config.json records: the checkpoint (its vocab and weights start the
    run) and the ratio of the discriminative learning rates."""
    return {"checkpoint": str(pre.stem.resolve()), "lr_factor": transfer.ULMFIT_FACTOR}


def vocab(config: dict[str, Any], text_vocab: Vocab) -> Vocab:
    """The run's vocab: the --init LM's, then the text's tokens it lacks."""
    stem = Path(config["init"]["checkpoint"])
    lm = Vocab(read_json(stem.with_suffix(".json"))["vocab"])
    return transfer.extend_vocab(lm, text_vocab)


def remap(docs: list[np.ndarray], old: Vocab, new: Vocab) -> list[np.ndarray]:
    """Documents of ids in `old` as ids in `new` (the same tokens)."""
    table = np.array([new.stoi[t] for t in old.itos], dtype=np.int64)
    return [table[np.asarray(d)] for d in docs]


def load_weights(model: SeqModel, config: dict[str, Any], vocab: Vocab) -> None:
    """Start `model` (for `vocab`) from the --init LM: every weight as it was, the rows of the
    embedding and of the decoder's bias matched by token (a new token at the mean row)."""
    stem = Path(config["init"]["checkpoint"])
    tensors, meta = load_tensors(stem)
    for name, twin in meta.get("aliases", {}).items():  # tied weights are stored once
        tensors.setdefault(name, tensors[twin])
    tensors = floats_as(tensors)  # 16-bit storage (the shipped LMs)
    old = Vocab(meta["vocab"])
    for name, value in list(tensors.items()):
        if value.shape[:1] == (len(old),) and name.endswith(("embedding.weight", "decoder.weight")):
            tensors[name], _ = transfer.match_embeddings(value, old, vocab)
        elif value.shape == (len(old),) and name.endswith("decoder.bias"):
            tensors[name] = transfer.match_embeddings(value[:, None], old, vocab)[0][:, 0]
    with torch.no_grad():
        model.load_state_dict(tensors, strict=True)


def lr_mults(model: SeqModel, config: dict[str, Any]) -> list[float]:
    return transfer.lr_mults(len(model.layer_groups()), config["init"]["lr_factor"])
