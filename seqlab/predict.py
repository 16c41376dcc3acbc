"""`seqlab predict`: the core reads the command line, the run's head kind picks the predictor.

A fine-tuning plugin registers a function under its head's kind in the entry-point group
`seqlab.predictors` (e.g. `classify = "seqlab_classify.predict:predict"`). The core finds the
run's checkpoint, reads its JSON (not the weights), and calls that function with a
`PredictRequest`; the function loads the model (`load_model(request.stem)`), reads the input
in its own format, and writes its output to `request.out`. Whatever it writes reaches stdout
or the `--out` file only when it returns: an error never leaves half an output file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from seqlab import registry
from seqlab.checkpoint import CheckpointError, read_json
from seqlab.transfer import checkpoint_stem

STDIN = Path("-")


@dataclass
class PredictRequest:
    """What the user asked `seqlab predict` for, and where the answers go."""

    run_dir: Path
    stem: Path  # the checkpoint to load: best (else last) of the run dir
    meta: dict[str, Any]  # the checkpoint's JSON: head kind and config, vocab, the task's fields
    texts: list[str] | None = None  # --text values (in order), when given
    input: Path | None = None  # FILE, or STDIN for "-"
    as_json: bool = False  # --json: one JSON object per input line
    format: str | None = None  # --format, for the predictor to interpret (None: its default)
    bs: int = 64
    device: str = "auto"
    out: StringIO = field(default_factory=StringIO)

    @property
    def source(self) -> str:
        """How to name the input in a message."""
        if self.input is None:
            return "--text"
        return "<stdin>" if self.input == STDIN else str(self.input)

    def read_text(self) -> str:
        """The whole input as text (FILE or stdin), UTF-8; bad bytes are an error naming the
        source and line."""
        assert self.input is not None
        if self.input == STDIN:
            data = sys.stdin.buffer.read()
        else:
            data = self.input.read_bytes()
        return decode(data, self.source)

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) for every input: each --text, or each line of FILE / stdin
        (line endings stripped; blank lines included, for the predictor to judge)."""
        if self.texts is not None:
            yield from enumerate(self.texts, start=1)
            return
        yield from enumerate(self.read_text().splitlines(), start=1)


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{source}, line {line}: bytes that are not UTF-8 (at byte {e.start}); "
            f"save the file as UTF-8"
        ) from None


def read_meta(stem: Path) -> dict[str, Any]:
    return read_json(stem.with_suffix(".json"))


def make_request(run_dir: Path, **kwargs: Any) -> PredictRequest:
    stem = checkpoint_stem(run_dir)
    return PredictRequest(run_dir=Path(run_dir), stem=stem, meta=read_meta(stem), **kwargs)


def predictor_for(meta: dict[str, Any], stem: Path):
    """The registered predictor for the checkpoint's head kind."""
    kind = meta.get("head", {}).get("kind")
    if kind is None:
        raise CheckpointError(f"{stem.with_suffix('.json')}: missing field 'head'")
    known = registry.names("seqlab.predictors")
    if kind not in known:
        raise ValueError(
            f"{stem}: a run with a {kind!r} head cannot predict here (predictors installed "
            f"for: {', '.join(known) or 'none'}); is it a fine-tuned run?"
        )
    return registry.load("seqlab.predictors", kind)


def predict(request: PredictRequest) -> str:
    """Run the predictor; returns everything it wrote."""
    predictor_for(request.meta, request.stem)(request)
    return request.out.getvalue()
