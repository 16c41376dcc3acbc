"""seqlab: stateful recurrent language models, and the taggers and classifiers built on them.

The public names below are all a plugin may import.
"""

from seqlab.corpus import Corpus
from seqlab.vocab import BOS, PAD, SPECIALS, UNK, Vocab

__version__ = "0.1.0"

__all__ = ["BOS", "PAD", "SPECIALS", "UNK", "Corpus", "Vocab", "__version__"]
