"""StatefulEncoder: embedding -> stack of RNN/GRU/LSTM layers, with AWD-LSTM dropouts.

State handling (truncated BPTT): with `stateful=True` the last hidden state of one
batch is the initial state of the next, detached so gradients stop at the batch
boundary (pytorch/examples calls this `repackage_hidden`). `reset()` zeroes it; the
trainer resets at the start of every epoch and every evaluation.

Batch-size change, on purpose: a smaller batch keeps the first rows of the state
(the rows it continues, e.g. a shorter last batch or one rank's rows); a larger
batch starts from zeros, because there is no state to continue for the new rows.

`Encoder` is the interface the rest of seqlab relies on, which plugins' encoders (the
lesson's recurrences, the tagger) have too; StatefulEncoder is one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, cast, overload

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from seqlab.nn.size import memory_problem, n_params
from seqlab.settings import SettingError

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

State = list  # one entry per layer: a tensor (rnn, gru) or an (h, c) tuple (lstm)


class Encoder(Protocol):
    """What SeqModel, the Trainer, heads and checkpoints use of an encoder: StatefulEncoder,
    or a plugin's encoder of another `kind` (an nn.Module registered in `seqlab.encoders`
    with a `from_config(dict)` classmethod)."""

    kind: str  # the name of its entry point; a checkpoint records it
    config: Any  # what the encoder was built from; `to_dict()` is its JSON form

    @property
    def out_size(self) -> int:
        """The size of the last dimension of `forward`'s output."""
        ...

    def __call__(self, x: Tensor) -> Tensor: ...

    def forward(self, x: Tensor) -> Tensor:
        """(bs, L) token ids -> (bs, L, out_size)."""
        ...

    def reset(self) -> None:
        """Forget the carried hidden state (the next batch starts from zeros)."""
        ...

    def get_state(self) -> dict[str, Tensor]:
        """The carried hidden state as named tensors ({} when none), for exact resume."""
        ...

    def set_state(self, tensors: dict[str, Tensor]) -> None: ...

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON, which `from_config` rebuilds the encoder from."""
        ...

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Parameters bottom to top, for discriminative learning rates and gradual
        unfreezing: the embedding, each recurrent layer, and last what sits on top of the
        recurrence (an output batch norm; an empty group when there is none). SeqModel puts
        the head into that last group, so the normalisation trains with the head it feeds."""
        ...


@dataclass
class EncoderConfig:
    vocab_size: int
    hidden: int = 64
    layers: int = 1
    cell: str = "lstm"
    emb_size: int | None = None  # None: same as hidden
    emb_drop: float = 0.0  # drops whole words from the embedding matrix
    input_drop: float = 0.0  # locked (same mask at every step) dropout on the embeddings
    hidden_drop: float = 0.0  # locked dropout between layers
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden weights
    bn: bool = False  # batch norm over the output features, as in fastai's lesson 7
    stateful: bool = True
    pad_idx: int = 1
    backward: bool = False  # trained on the reversed stream; set by the data side

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}: choose one of {', '.join(CELLS)}")
        for name in ("vocab_size", "hidden", "layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("emb_drop", "input_drop", "hidden_drop", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.emb_size is not None and self.emb_size < 1:
            raise SettingError("emb_size", f"must be at least 1, got {self.emb_size}")
        problem = memory_problem(n_params(self))  # before anything is allocated
        if problem:
            name = self._largest_size()
            raise SettingError(name, f"{getattr(self, name)} {problem}")

    def _largest_size(self) -> str:
        """The setting to blame for a model too big: what most of its parameters come from."""
        if self.vocab_size * self.emb_dim > self.layers * self.hidden * self.hidden:
            return "emb_size" if self.emb_dim > self.vocab_size else "vocab_size"
        return "layers" if self.layers > self.hidden else "hidden"

    @property
    def emb_dim(self) -> int:
        return self.emb_size or self.hidden


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Variational dropout: one mask per sequence, shared across time steps."""
    if not training or p == 0.0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)
    return x * mask


def embedding_dropout(weight: Tensor, p: float, training: bool) -> Tensor:
    """Drop whole rows of the embedding matrix: a dropped word is dropped everywhere."""
    if not training or p == 0.0:
        return weight
    mask = weight.new_empty(weight.size(0), 1).bernoulli_(1 - p) / (1 - p)
    return weight * mask


class StatefulEncoder(nn.Module):
    kind = "stateful"  # plugins' encoders have their own kind (see `encoder_from_config`)

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.emb_dim, padding_idx=c.pad_idx)
        sizes = [c.emb_dim] + [c.hidden] * c.layers
        cell = CELLS[c.cell]
        self.rnns = nn.ModuleList(
            cell(sizes[i], sizes[i + 1], batch_first=True) for i in range(c.layers)
        )
        self.bn = nn.BatchNorm1d(c.hidden) if c.bn else None
        self.state: State | None = None

    @property
    def out_size(self) -> int:
        return self.config.hidden

    def reset(self) -> None:
        self.state = None

    def forward(self, x: Tensor) -> Tensor:
        """x: (bs, L) token ids -> (bs, L, hidden) outputs of the last layer."""
        c = self.config
        weight = embedding_dropout(self.embedding.weight, c.emb_drop, self.training)
        out = F.embedding(x, weight, c.pad_idx)
        out = locked_dropout(out, c.input_drop, self.training)
        state = self._initial_state(x.size(0)) if c.stateful else [None] * c.layers
        new_state = []
        for i, rnn in enumerate(self.rnns):
            out, h = self._run_layer(rnn, out, state[i])
            new_state.append(h)
            if i < c.layers - 1:
                out = locked_dropout(out, c.hidden_drop, self.training)
        if c.stateful:
            self.state = [_detach(h) for h in new_state]
        if self.bn is not None:
            out = self.bn(out.transpose(1, 2)).transpose(1, 2)
        return out

    def _run_layer(self, rnn: nn.Module, x: Tensor, h0):
        p = self.config.weight_drop
        if not self.training or p == 0.0:
            return rnn(x, h0)
        # DropConnect: run the layer with a dropped copy of its recurrent weights.
        dropped = {"weight_hh_l0": F.dropout(rnn.get_parameter("weight_hh_l0"), p, training=True)}
        return functional_call(rnn, dropped, (x, h0))

    def _initial_state(self, bs: int) -> State:
        if self.state is None:
            return [None] * self.config.layers
        have = _batch_size(self.state[0])
        if have == bs:
            return self.state
        if have > bs:  # keep the rows this batch continues
            return [_rows(h, bs) for h in self.state]
        return [None] * self.config.layers  # nothing to continue for the new rows

    def get_state(self) -> dict[str, Tensor]:
        """The hidden state as named tensors (for a checkpoint); empty when there is none."""
        if self.state is None:
            return {}
        out = {}
        for i, h in enumerate(self.state):
            for j, t in enumerate(h if isinstance(h, tuple) else (h,)):
                out[f"layer{i}.{j}"] = t
        return out

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        if not tensors:
            self.state = None
            return
        state: State = []
        for i in range(self.config.layers):
            parts = [
                tensors[f"layer{i}.{j}"] for j in range(2 if self.config.cell == "lstm" else 1)
            ]
            state.append(tuple(parts) if len(parts) == 2 else parts[0])
        self.state = state

    def to_dict(self) -> dict:
        return asdict(self.config)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        groups = [list(self.embedding.parameters())]
        groups += [list(rnn.parameters()) for rnn in self.rnns]
        groups.append(list(self.bn.parameters()) if self.bn is not None else [])
        return groups


MEMO_BYTES = 2 * 2**30  # what a Memo may keep


class Memo(dict[bytes, Tensor]):
    """A frozen LM's outputs kept for a run (the tagger's and the classifier's `remember`),
    keyed by what the LM read, at most MEMO_BYTES of them: past it `keep` keeps nothing, and
    those texts are read again each epoch (slower; the same numbers up to float rounding, as
    they are read in batches of another shape), so a big corpus cannot fill the memory."""

    nbytes = 0

    def keep(self, key: bytes, outputs: Tensor) -> None:
        if self.nbytes < MEMO_BYTES:
            self[key] = outputs.clone()
            self.nbytes += outputs.nbytes

    def outputs(self, keys: list[bytes], read: Callable[[list[int]], list[Tensor]]) -> list[Tensor]:
        """Each key's outputs: kept ones from here, the others from `read(indices)` (the first
        index of each new key; a text twice in a batch is read once), kept while there is
        room, and used now whether kept or not."""
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        new = [i for k, i in first.items() if k not in self]
        now = dict(zip([keys[i] for i in new], read(new) if new else [], strict=True))
        for k, t in now.items():
            self.keep(k, t)
        return [now[k] if k in now else self[k] for k in keys]


class LMReader(nn.Module):
    """Base of a plugin encoder built on pretrained LMs (`self.lms`) that fine-tuning reads
    statelessly (the tagger's, the classifier's stack): each sequence is read whole from a
    zero state, so nothing is carried between batches or saved for resume. A subclass sets
    `lms` and `config` (its JSON form) and adds forward, out_size and layer_groups."""

    lms: nn.ModuleList
    config: dict[str, Any]

    @property
    def language_models(self) -> list[StatefulEncoder]:
        return [cast(StatefulEncoder, e) for e in self.lms]

    def reset(self) -> None:
        for e in self.language_models:
            e.reset()

    def get_state(self) -> dict[str, Tensor]:
        return {}

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        """Nothing to restore: there is no carried state."""

    def to_dict(self) -> dict[str, Any]:
        return self.config


# Without a kind the result is known to be a StatefulEncoder (its heads may use its
# attributes); with one, only the Encoder interface is.
@overload
def encoder_from_config(config: dict, kind: None = None) -> StatefulEncoder: ...
@overload
def encoder_from_config(config: dict, kind: str | None) -> Encoder: ...
def encoder_from_config(config: dict, kind: str | None = None) -> Encoder:
    """The encoder a run config or checkpoint describes: the StatefulEncoder, or a plugin's
    encoder of another `kind` (entry-point group `seqlab.encoders`, built by `from_config`)."""
    if kind in (None, StatefulEncoder.kind):
        return StatefulEncoder(EncoderConfig(**config))
    from seqlab.registry import encoder_class

    encoder: Encoder = encoder_class(kind).from_config(config)
    return encoder


def _detach(h):
    return tuple(t.detach() for t in h) if isinstance(h, tuple) else h.detach()


def _batch_size(h) -> int:
    return (h[0] if isinstance(h, tuple) else h).size(1)


def _rows(h, bs: int):
    return (
        tuple(t[:, :bs].contiguous() for t in h) if isinstance(h, tuple) else h[:, :bs].contiguous()
    )
