"""PretrainSettings: every setting of `seqlab pretrain`, its default, help and range, once.

The click options of `seqlab pretrain` are generated from these fields, `seqlab lesson` and
the presets start from `PretrainSettings()`, and `to_config` turns the settings into the
run's config.json (data, encoder, head, training): so the CLI, the lesson and the Python API
cannot disagree about a default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from seqlab import EncoderConfig, TrainConfig
from seqlab.data.stream import LAYOUTS
from seqlab.settings import check, setting
from seqlab.train import settings as train_settings
from seqlab.train.trainer import MAX_EPOCHS

CELLS = ("rnn", "gru", "lstm")
LEVELS = ("word", "char")
DEVICES = ("auto", "cpu", "cuda")

# What `--level char` changes, for every option not given on the command line (only what
# differs from the word defaults). A character LM reads ~5x more tokens than a word LM for
# the same text, from a vocab of ~100-300, so: one wide LSTM layer (Flair's shape), a small
# embedding, no AWD-LSTM regularisation (a few epochs over millions of characters do not
# overfit), and short rows for more updates per CPU second. Chosen on english-text on one
# core of a 2-core CPU (docs/char-lm.md): per CPU second, hidden 512 for 3 epochs reached a
# lower valid bits per character than hidden 256 for 8; ~25 CPU minutes in all.
LEVEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "word": {},
    "char": {
        "cell": "lstm",
        "layers": 1,
        "hidden": 512,
        "emb_size": 32,
        "bptt": 100,
        "epochs": 3,
        "lr": 5e-3,
        "emb_drop": 0.0,
        "input_drop": 0.0,
        "hidden_drop": 0.0,
        "weight_drop": 0.0,
        "alpha": 0.0,
        "beta": 0.0,
    },
}


def _flags(values: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    return " ".join(f"--{k.replace('_', '-')} {value(v)}" for k, v in values.items())


@dataclass(frozen=True)
class PretrainSettings:
    # Word defaults chosen on a held-out tail of human-numbers' train split (the last 15%,
    # never valid), among the settings in docs/accuracy.md: a 2-layer GRU with AWD-LSTM
    # regularisation (dropouts, AR/TAR), a tied decoder, 30 epochs. About 1.5 minutes on one
    # CPU core.
    cell: str = setting("gru", "Recurrent cell.", choices=CELLS)
    layers: int = setting(2, "Stacked RNN layers.", min=1)
    hidden: int = setting(192, "Hidden size of each layer.", min=1)
    emb_size: int = setting(128, "Embedding size (the tied decoder's too).", min=1)
    bs: int = setting(32, "Batch size: rows of the stream read in parallel.", min=1)
    bptt: int = setting(70, "Tokens per row per batch (truncated BPTT length).", min=1)
    # cli=False: declared by the command (`--layout` is shared, `--random-bptt/--fixed-bptt`
    # is spelt as a pair of words, not --no-random-bptt)
    layout: str = setting(
        "contiguous", "How the stream is cut into rows.", choices=LAYOUTS, cli=False
    )
    random_bptt: bool = setting(
        True, "Vary the training sequence length per batch (AWD-LSTM).", cli=False
    )
    epochs: int = setting(
        30,
        "Epochs of one-cycle training. On your text files, without --epochs: sized to the "
        "text, about 3M words (--level char: 15M characters) read in all, 1 to 30 epochs.",
        min=1,
        max=MAX_EPOCHS,
    )
    lr: float = setting(3e-3, "Peak learning rate of the one-cycle schedule.", min=0, min_open=True)
    wd: float = setting(0.01, "AdamW weight decay.", min=0)
    pct_start: float = setting(
        0.25, "Fraction of steps spent warming up.", min=0, max=1, min_open=True, max_open=True
    )
    clip: float = setting(0.5, "Gradient-norm clipping (0: off).", min=0)
    emb_drop: float = setting(0.05, "Embedding dropout (whole words).", min=0, max=1, max_open=True)
    input_drop: float = setting(0.25, "Dropout on the embeddings.", min=0, max=1, max_open=True)
    hidden_drop: float = setting(0.15, "Dropout between layers.", min=0, max=1, max_open=True)
    weight_drop: float = setting(
        0.2, "DropConnect on recurrent weights.", min=0, max=1, max_open=True
    )
    out_drop: float = setting(0.1, "Dropout before the decoder.", min=0, max=1, max_open=True)
    alpha: float = setting(
        2.0, "AR: penalty on the top layer's (dropped) outputs, AWD-LSTM uses 2.", min=0
    )
    beta: float = setting(
        1.0, "TAR: penalty on the change of the top layer's outputs, AWD-LSTM uses 1.", min=0
    )
    bn: bool = setting(False, "Batch norm over output features.")
    backward: bool = setting(
        False,
        "Train on the reversed stream (same vocab): a backward LM, for taggers that read "
        "both directions.",
    )
    holdout: float = setting(
        0.0,
        "Validate on this fraction of the train split's tail instead of the valid split "
        "(choose settings here, never on valid).",
        min=0,
        max=1,
        max_open=True,
    )
    level: str = setting(
        "word",
        "What a token is: a word, or a character (a character LM, Flair's contextual string "
        "embeddings; spaces and newlines are characters too). char changes the defaults of "
        f"the options not given: {_flags(LEVEL_DEFAULTS['char'])}.",
        choices=LEVELS,
    )
    patience: int | None = train_settings.patience()
    max_minutes: float | None = train_settings.max_minutes()
    amp: bool = train_settings.amp()
    tensorboard: bool = train_settings.tensorboard()
    # cli=False: `--seed` and `--device` are the options every command shares
    seed: int = setting(42, "Random seed (weights, shuffling, dropout).", min=0, cli=False)
    device: str = setting("auto", "auto takes a GPU when there is one.", choices=DEVICES, cli=False)

    def __post_init__(self) -> None:
        check(self)
        train_settings.check(self)

    @classmethod
    def for_level(cls, level: str, **values: Any) -> PretrainSettings:
        """The defaults of `level` (LEVEL_DEFAULTS over the word defaults), then `values`."""
        return cls(**{**LEVEL_DEFAULTS[level], "level": level, **values})

    def to_config(self, corpus: str, vocab_size: int, pad_idx: int) -> dict[str, Any]:
        """The run's config.json: everything needed to rebuild its data, model and training."""
        encoder = EncoderConfig(
            vocab_size=vocab_size,
            hidden=self.hidden,
            layers=self.layers,
            cell=self.cell,
            emb_size=self.emb_size,
            emb_drop=self.emb_drop,
            input_drop=self.input_drop,
            hidden_drop=self.hidden_drop,
            weight_drop=self.weight_drop,
            bn=self.bn,
            pad_idx=pad_idx,
            backward=self.backward,
        )
        train = TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            wd=self.wd,
            pct_start=self.pct_start,
            clip=self.clip or None,
            seed=self.seed,
            device=self.device,
            patience=self.patience,
            max_minutes=self.max_minutes,
            amp=self.amp,
            tensorboard=self.tensorboard,
        )
        head = {"out_drop": self.out_drop, "alpha": self.alpha, "beta": self.beta}
        config: dict[str, Any] = {"task": "lm", "corpus": corpus}
        if self.level != "word":  # absent means word, so word runs read as they always did
            config["level"] = self.level
            head["bpc"] = True
        config.update(
            data={
                "bs": self.bs,
                "bptt": self.bptt,
                "layout": self.layout,
                "random_bptt": self.random_bptt,
                "holdout": self.holdout,
            },
            encoder=asdict(encoder),
            head={"kind": "lm", "config": head},
            train=asdict(train),
        )
        return config
