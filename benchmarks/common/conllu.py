"""CoNLL-U files as blocks of lines: read, keep the word lines, write (the shared data step of
the GUM benchmarks)."""

from __future__ import annotations

from pathlib import Path


def blocks(path: Path) -> list[list[str]]:
    out, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def words_only(block: list[str]) -> list[str]:
    """A CoNLL-U sentence without multi-word token lines (3-4) and empty nodes (5.1)."""
    keep = []
    for line in block:
        if not line.startswith("#"):
            ident = line.split("\t", 1)[0]
            if "-" in ident or "." in ident:
                continue
        keep.append(line)
    return keep


def upos(sentence: list[str]) -> list[str]:
    return [ln.split("\t")[3] for ln in sentence if not ln.startswith("#")]


def write_conllu(path: Path, sentences: list[list[str]]) -> Path:
    path.write_text("".join("\n".join(s) + "\n\n" for s in sentences), encoding="utf-8")
    return path
