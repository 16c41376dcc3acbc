"""seqlab: stateful recurrent language models, and the taggers and classifiers built on them.

The public names below are all a plugin may import.
"""

from seqlab import (
    distributed,  # noqa: I001  (a module: setup, rank, is_main, wrap for torchrun)
    registry,  # noqa: I001  (a module, for plugins: registry.corpus(name))
    tokenize,  # noqa: I001  (a module: tokenize.tokenize(text), as pretraining splits)
    transfer,  # noqa: I001  (a module: load_pretrained, build_encoder, fine_tuning, ...)
)
from seqlab.batches import PaddedBatches, flip_padded
from seqlab.checkpoint import CheckpointError, atomic_write, load_model, save_model
from seqlab.cli import UserError, default_run_dir, device_option, user_errors, writable_dir
from seqlab.corpus import Corpus
from seqlab.encoder import EncoderConfig, StatefulEncoder, encoder_from_config
from seqlab.model import Batch, Head, SeqModel
from seqlab.predict import PredictRequest
from seqlab.stream import BPTTStream
from seqlab.train import Interrupted, TrainConfig, Trainer, seed_everything
from seqlab.vocab import BOS, PAD, SPECIALS, UNK, Vocab

__version__ = "0.1.0"

__all__ = [
    "BOS",
    "PAD",
    "SPECIALS",
    "UNK",
    "BPTTStream",
    "Batch",
    "CheckpointError",
    "Corpus",
    "EncoderConfig",
    "Head",
    "Interrupted",
    "PaddedBatches",
    "PredictRequest",
    "SeqModel",
    "StatefulEncoder",
    "TrainConfig",
    "Trainer",
    "UserError",
    "Vocab",
    "__version__",
    "atomic_write",
    "default_run_dir",
    "device_option",
    "distributed",
    "encoder_from_config",
    "flip_padded",
    "load_model",
    "registry",
    "save_model",
    "seed_everything",
    "tokenize",
    "transfer",
    "user_errors",
    "writable_dir",
]
