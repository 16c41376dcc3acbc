"""Transfer (ULMFiT): a pretrained LM encoder under a new head, fine-tuned with care.

    pre = load_pretrained(lm_run_dir)                 # encoder weights, config, vocab
    vocab = extend_vocab(pre.vocab, task_vocab)       # LM tokens keep their ids
    encoder = build_encoder(vocab, pre)               # embedding rows matched by token
    model = SeqModel(encoder, head)
    mults, callbacks = fine_tuning(model)             # discriminative lr, gradual unfreezing
    Trainer(model, ..., lr_mults=mults, callbacks=callbacks).fit()

- Vocab matching (like fastai's match_embeds): a token the LM knows keeps its embedding row;
  a new token starts at the mean of the LM's rows, a neutral point that fine-tuning moves.
- Discriminative learning rates: group i of G (embedding, each RNN layer, head) trains at
  lr / factor**(G-1-i); lower layers hold general knowledge and should move less (ULMFiT: 2.6).
- Gradual unfreezing: epoch 0 trains only the head, each later epoch unfreezes the next group
  down, until everything trains, so the random head cannot wreck the pretrained layers early.
  It is a pure function of the epoch, so a resumed run unfreezes exactly as the first did.
- From scratch (the baseline): `build_encoder(vocab, pre, from_scratch=True)` builds the same
  architecture with fresh weights; `build_encoder(vocab, config=...)` without any LM.

Fine-tuned encoders are stateless (`stateful=False`): each labelled sequence is read whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqlab import registry
from seqlab.data.vocab import Vocab
from seqlab.nn.encoder import EncoderConfig, StatefulEncoder
from seqlab.nn.model import SeqModel
from seqlab.store import modeldir, validate
from seqlab.store.checkpoint import floats_as, has_checkpoint, load_tensors
from seqlab.store.errors import CheckpointError

ULMFIT_FACTOR = 2.6  # ULMFiT's ratio between the learning rates of neighbouring layer groups


@dataclass
class Pretrained:
    """A pretrained encoder as read from a checkpoint (nothing built yet)."""

    config: EncoderConfig
    vocab: Vocab
    tensors: dict[str, Tensor]  # encoder state dict (keys without the "encoder." prefix)
    stem: Path  # the checkpoint it came from (STEM.json, STEM.safetensors)
    meta: dict[str, Any]

    @property
    def level(self) -> str:
        """What a token is to this LM: "word" or "char" (a checkpoint without the key is a
        word LM, as every one was before character LMs)."""
        return str(self.meta.get("level", "word"))


def checkpoint_stem(path: Path) -> Path:
    """A run directory -> its best checkpoint (else last); a checkpoint file or stem -> stem."""
    path = Path(path)
    if path.is_dir():
        for name in ("best", "last"):
            if has_checkpoint(path / name):
                return path / name
        raise CheckpointError(f"{path}: no best.json or last.json there; is it a run directory?")
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    if not has_checkpoint(stem):
        raise CheckpointError(f"{path}: no such run directory or checkpoint")
    return stem


def shipped_lm(path: Path, backward: bool) -> Path:
    """`path` as given, or, when it names no file and is the name of a shipped LM (the
    `seqlab.lms` plugins, e.g. "english"), that LM's checkpoint in the direction asked for."""
    name = str(path)
    if Path(path).exists() or name not in registry.names("seqlab.lms"):
        return Path(path)
    return Path(registry.load("seqlab.lms", name)(backward))


def load_pretrained(path: Path, backward: bool = False) -> Pretrained:
    """Read the encoder of a run directory, a checkpoint, an exported model directory (any
    head; the head is dropped), or of a shipped LM named by `path` (its `backward` one when
    asked: a shipped name stands for a forward and a backward LM)."""
    path = shipped_lm(path, backward)
    if not Path(path).exists() and not has_checkpoint(Path(path)):
        shipped = ", ".join(registry.names("seqlab.lms")) or "none installed"
        raise CheckpointError(
            f"{path}: no such run directory or checkpoint, nor the name of a shipped LM "
            f"(shipped: {shipped})"
        )
    if modeldir.is_model_dir(path):
        stem = Path(path) / "config"  # messages about its JSON name DIR/config.json
        tensors, meta = modeldir.read_tensors(path)
    else:
        stem = checkpoint_stem(path)
        tensors, meta = load_tensors(stem)
    validate.check_meta(meta, stem.with_suffix(".json"), validate.header_of(tensors))
    for name, twin in meta.get("aliases", {}).items():  # tied weights are stored once
        tensors.setdefault(name, tensors[twin])
    tensors = floats_as(tensors)  # 16-bit storage (the shipped LMs)
    kind = meta.get("encoder_kind") or StatefulEncoder.kind
    if kind != StatefulEncoder.kind:
        raise CheckpointError(
            f"{stem.with_suffix('.json')}: its encoder is of kind {kind!r}; fine-tuning takes "
            f"the {StatefulEncoder.kind!r} encoder of `seqlab pretrain` (rnn, gru or lstm cells)"
        )
    config = validate.encoder_config(meta["encoder"], stem.with_suffix(".json"))
    vocab = Vocab(meta["vocab"])
    enc = {k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")}
    if not enc:
        raise CheckpointError(f"{stem.with_suffix('.safetensors')}: holds no encoder weights")
    return Pretrained(config, vocab, enc, stem, meta)


def extend_vocab(pretrained: Vocab, new: Vocab) -> Vocab:
    """The pretrained vocab followed by the new data's tokens it lacks: every pretrained row is
    kept (a word seen only at test time still has its pretrained embedding)."""
    return Vocab(pretrained.itos + [t for t in new.itos if t not in pretrained.stoi])


def match_embeddings(weight: Tensor, old: Vocab, new: Vocab) -> tuple[Tensor, int]:
    """Rows of `weight` (indexed by `old`) rearranged for `new`: a known token keeps its row, an
    unknown one gets the mean row. Returns (new weight, how many tokens were known)."""
    out = weight.mean(dim=0, keepdim=True).repeat(len(new), 1)
    pairs = [(i, old.stoi[t]) for i, t in enumerate(new.itos) if t in old.stoi]
    if pairs:
        dst, src = (torch.tensor(p) for p in zip(*pairs, strict=True))
        out[dst] = weight[src]
    return out, len(pairs)


def build_encoder(
    vocab: Vocab,
    pretrained: Pretrained | None = None,
    from_scratch: bool = False,
    config: EncoderConfig | None = None,
    **overrides: Any,
) -> StatefulEncoder:
    """A stateless encoder for `vocab`.

    With `pretrained`: its architecture, and its weights unless `from_scratch` (embedding rows
    matched by token). Without: the architecture of `config`. `overrides` set other
    EncoderConfig fields (dropouts, usually); vocab_size, pad_idx and stateful always follow
    `vocab` and fine-tuning.
    """
    base = pretrained.config if pretrained is not None else config
    if base is None:
        raise ValueError("build_encoder needs a pretrained encoder or an EncoderConfig")
    cfg = dataclasses.replace(
        base, **overrides, vocab_size=len(vocab), pad_idx=vocab.pad_idx, stateful=False
    )
    encoder = StatefulEncoder(cfg)
    if pretrained is not None and not from_scratch:
        state = dict(pretrained.tensors)
        state["embedding.weight"], _ = match_embeddings(
            state["embedding.weight"], pretrained.vocab, vocab
        )
        encoder.load_state_dict(state, strict=True)
    return encoder


def aligned_layer_groups(encoders: list[StatefulEncoder]) -> list[list[torch.nn.Parameter]]:
    """Layer groups of several LMs read side by side: their embeddings, then layer i of every
    LM together, aligned at the top when their depths differ (the top layers unfreeze first),
    then their tops. No encoders: one empty group."""
    if not encoders:
        return [[]]
    depth = max(len(e.layer_groups()) - 2 for e in encoders)
    groups: list[list[torch.nn.Parameter]] = [[] for _ in range(depth + 2)]
    for e in encoders:
        embedding, *layers, top = e.layer_groups()
        groups[0] += embedding
        for i, layer in enumerate(layers):
            groups[1 + depth - len(layers) + i] += layer
        groups[-1] += top
    return groups


def lr_mults(n_groups: int, factor: float = ULMFIT_FACTOR) -> list[float]:
    """Discriminative learning-rate multipliers, bottom group to top: the top group trains at
    the full lr and each group below at 1/factor of the one above."""
    return [factor ** -(n_groups - 1 - i) for i in range(n_groups)]


def gradual_unfreezing(model: SeqModel) -> Callable[[Any, str, int], None]:
    """A Trainer callback: at the start of epoch e, train only the top e+1 layer groups."""
    n_groups = len(model.layer_groups())

    def callback(trainer: Any, event: str, epoch: int) -> None:
        if event == "epoch_start":
            model.freeze_to(max(n_groups - 1 - epoch, 0))

    return callback


def fine_tuning(
    model: SeqModel,
    discriminative: bool = True,
    unfreeze: bool = True,
    factor: float = ULMFIT_FACTOR,
) -> tuple[list[float] | None, list[Callable]]:
    """(lr_mults, callbacks) for `Trainer`: ULMFiT's recipe, each part switchable. Both off is
    plain fine-tuning of everything at one learning rate (what a from-scratch run uses)."""
    mults = lr_mults(len(model.layer_groups()), factor) if discriminative else None
    callbacks = [gradual_unfreezing(model)] if unfreeze else []
    return mults, callbacks
