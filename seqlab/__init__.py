"""seqlab: stateful recurrent language models, and the taggers and classifiers built on them.

    run = seqlab.pretrain("human-numbers", epochs=5)    # the Python facade (seqlab.api,
    model = seqlab.load(run)                            # docs/python.md): pretrain,
    model.predict(["eight thousand one"])               # finetune_tag, finetune_classify, load

The public names below are the library; a plugin may import them and the modules they come
from. The command line's helpers (options, errors) live in `seqlab.cli.options`, which this
package never imports: `import seqlab` does not load click, rich or matplotlib.
"""

from importlib.metadata import PackageNotFoundError, version

from seqlab import registry  # a module, for plugins: registry.corpus(name)
from seqlab.data import tokenize  # a module: tokenize.tokenize(text), as pretraining splits
from seqlab.data.batches import Batch, PaddedBatches, flip_padded
from seqlab.data.corpus import Corpus
from seqlab.data.files import atomic_write
from seqlab.data.stream import BPTTStream
from seqlab.data.vocab import BOS, PAD, SPECIALS, UNK, Vocab
from seqlab.nn.encoder import EncoderConfig, StatefulEncoder, encoder_from_config
from seqlab.nn.model import Head, SeqModel
from seqlab.store.checkpoint import load_model, save_model
from seqlab.store.errors import CheckpointError
from seqlab.tasks import transfer  # a module: load_pretrained, build_encoder, fine_tuning, ...
from seqlab.tasks.predict import PredictRequest
from seqlab.train import distributed  # a module: setup, rank, is_main, wrap for torchrun
from seqlab.train.trainer import Interrupted, TrainConfig, Trainer, seed_everything

try:
    __version__ = version("seqlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

# The Python facade (seqlab.api: seqlab.pretrain, seqlab.load, ...), loaded when first used.
_FACADE = (
    "Predictor",
    "Run",
    "SettingError",
    "finetune",
    "finetune_classify",
    "finetune_tag",
    "load",
    "pretrain",
)

__all__ = [
    *_FACADE,
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
    "Vocab",
    "__version__",
    "atomic_write",
    "distributed",
    "encoder_from_config",
    "flip_padded",
    "load_model",
    "registry",
    "save_model",
    "seed_everything",
    "tokenize",
    "transfer",
]

# The CLI helpers moved to seqlab.cli.options; a plugin written against the old names still
# imports them from here, loaded (with click) only when asked for.
_MOVED_TO_OPTIONS = ("UserError", "default_run_dir", "device_option", "user_errors", "writable_dir")


def __getattr__(name: str):
    if name in _FACADE:
        from seqlab import api

        return getattr(api, name)
    if name in _MOVED_TO_OPTIONS:
        from seqlab.cli import options

        return getattr(options, name)
    raise AttributeError(f"module 'seqlab' has no attribute {name!r}")
