"""TextSettings: everything that changes the ids of a text corpus, and so its cache key.

Declared once (seqlab.settings), so the same fields are the Python defaults, the checks and
`seqlab pretrain`'s options. The cache (seqlab.data.tokenize) keys on them; the build
(seqlab.data.tokenbuild) reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.data.textfiles import ERRORS
from seqlab.data.vocab import SPECIALS
from seqlab.settings import check, setting

# The token cache's format, part of its key: 2 since a character LM reads CRLF line ends as
# "\n" (caches built before learned "\r" as a character, and are rebuilt).
FORMAT_VERSION = 2


LEVELS = ("word", "char")


@dataclass(frozen=True)
class TextSettings:
    """Everything that changes the ids (and so the cache key)."""

    doc_per_line: bool = setting(
        False, "Each non-blank line is a document (starts with xxbos); else each file is one."
    )
    max_vocab: int = setting(
        60_000,
        "Keep at most this many tokens, the most frequent; the rest become xxunk.",
        min=len(SPECIALS),
        min_open=True,  # room for one token beside the specials
    )
    min_freq: int = setting(2, "Keep only tokens seen at least this often.", min=1)
    errors: str = setting(
        "strict",
        "strict: stop at a binary or non-UTF-8 file, naming it and the byte offset; "
        "replace: read bad bytes as U+FFFD.",
        choices=ERRORS,
    )
    valid_fraction: float = setting(
        0.05,
        "Without --valid: validate on this last fraction of the text, by bytes, from a line "
        "start on.",
        min=0,
        max=1,
        min_open=True,
        max_open=True,
    )
    # word: the pre-tokenizer's words and punctuation runs; char: every character, spaces
    # and newlines included (seqlab.data.chartokens). Set by `--level`, not an option of its own.
    level: str = setting("word", "What a token is.", choices=LEVELS, cli=False)

    def __post_init__(self) -> None:
        check(self)
