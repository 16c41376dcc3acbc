"""The text the shipped English LMs were trained on: english-text with WikiText's number
separators undone.

WikiText-2 writes "1 @,@ 000", "well @-@ known" and "3 @.@ 5": marks that no user's text has,
and reversible (the original had no spaces there), so they are undone. Its spaces around
punctuation ("lobster , is") are kept: a tagger hands the LM its words joined by single
spaces, which is exactly that form. `<unk>` (6% of the Wikipedia words) is kept: the word it
replaced is lost, and any stand-in would be a made-up word; the LM learns it as "a rare word".
The Gutenberg books are copied as they are.

    python -m seqlab_english.prepare ../shared/data/english-text prepared/
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SEPARATOR = re.compile(r" @([-,.])@ ")


def undo_separators(text: str) -> str:
    """ "well @-@ known" -> "well-known", "1 @,@ 000" -> "1,000", "3 @.@ 5" -> "3.5"."""
    return SEPARATOR.sub(r"\1", text)


def prepare(src: Path, dst: Path) -> list[Path]:
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for path in sorted(src.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if path.name.startswith("wikitext"):
            text = undo_separators(text)
        target = dst / path.name
        target.write_text(text, encoding="utf-8")
        out.append(target)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m seqlab_english.prepare ENGLISH_TEXT_DIR OUT_DIR", file=sys.stderr)
        return 2
    for path in prepare(Path(argv[0]), Path(argv[1])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
