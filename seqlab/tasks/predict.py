"""`seqlab predict`: the core reads the command line, the run's head kind picks the predictor.

A fine-tuning plugin registers a function under its head's kind in the entry-point group
`seqlab.predictors` (e.g. `classify = "seqlab_classify.predict:predict"`). The core finds the
run's checkpoint (or reads an exported model directory's config.json, seqlab.store.modeldir), and
calls that function with a `PredictRequest`; the function loads the model (`request.load()`),
reads the input in its own format, and writes its output to `request.out`. A predictor that
averages several runs says so with an `averages = True` attribute, one that finds entities
(`--entities`) with `entities = True`. Whatever it writes
reaches stdout or the `--out` file only when it returns: an error never leaves half an output
file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from seqlab import registry
from seqlab.data.textfiles import check_line_lengths
from seqlab.store import modeldir
from seqlab.store.checkpoint import committed_file, load_model, read_json
from seqlab.store.errors import CheckpointError
from seqlab.store.validate import check_meta
from seqlab.tasks.transfer import checkpoint_stem

STDIN = Path("-")


@dataclass
class PredictRequest:
    """What the user asked `seqlab predict` for, and where the answers go."""

    run_dir: Path  # a run directory, or an exported model directory
    stem: Path  # the checkpoint to load: best (else last) of the run dir; DIR/model if exported
    meta: dict[str, Any]  # the checkpoint's JSON: head kind and config, vocab, the task's fields
    others: list[Path] = field(default_factory=list)  # more runs (same head kind) to average with
    texts: list[str] | None = None  # --text values (in order), when given
    input: Path | None = None  # FILE, or STDIN for "-"
    as_json: bool = False  # --json: one JSON object per input line
    entities: bool = False  # --entities: the named entities found (taggers of span tags)
    format: str | None = None  # --format, for the predictor to interpret (None: its default)
    bs: int = 64
    device: str = "auto"
    explain: bool = False  # --explain: what weighed most for each prediction (predictors that can)
    out: StringIO = field(default_factory=StringIO)

    def __post_init__(self) -> None:
        for text in self.texts or ():
            check_line_lengths(text, "--text")

    def load(self):
        """(model, vocab, meta) of the run's checkpoint or the exported directory."""
        return load_any(self.run_dir)

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
        text = decode(data, self.source)
        if not text.strip():  # said here, not later as "no examples to batch"
            raise ValueError(f"{self.source}: empty, nothing to predict; give texts, one a line")
        check_line_lengths(text, self.source)  # a giant line would run for minutes
        return text

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
    path = committed_file(stem, ".json")  # the committed one, even mid-save
    meta = read_json(path)
    check_meta(meta, path)  # the fields a predictor reads, before it runs
    return meta


def load_any(path: Path):
    """(model, vocab, meta) of an exported model directory, a run directory (its best
    checkpoint, else last) or a checkpoint."""
    if modeldir.is_model_dir(path):
        return modeldir.read(path)
    return load_model(checkpoint_stem(path))


def make_request(run_dir: Path, **kwargs: Any) -> PredictRequest:
    run_dir = Path(run_dir)
    if modeldir.is_model_dir(run_dir):
        config = modeldir.read_config(run_dir)
        meta = {k: config[k] for k in modeldir.KEYS if k in config}
        return PredictRequest(run_dir=run_dir, stem=run_dir / "model", meta=meta, **kwargs)
    stem = checkpoint_stem(run_dir)
    return PredictRequest(run_dir=run_dir, stem=stem, meta=read_meta(stem), **kwargs)


def predictor_for(meta: dict[str, Any], stem: Path):
    """The registered predictor for the checkpoint's head kind."""
    kind = meta.get("head", {}).get("kind")
    if kind is None:
        raise CheckpointError(f"{stem.with_suffix('.json')}: missing field 'head'")
    known = registry.names("seqlab.predictors")
    if kind not in known:
        raise ValueError(
            f"{stem}: a run with a {kind!r} head cannot predict here (predictors installed "
            f"for: {', '.join(known) or 'none'}); is it a fine-tuned run? A language model "
            f"continues text with `seqlab generate`"
        )
    return registry.load("seqlab.predictors", kind)


def with_others(request: PredictRequest, others: list[Path]) -> PredictRequest:
    """`request` with more runs to predict with, each checked to have the first run's head kind
    (`load_any(path)` loads one)."""
    kind = request.meta.get("head", {}).get("kind")
    for path in others:
        got = make_request(path).meta.get("head", {}).get("kind")
        if got != kind:
            raise ValueError(
                f"{path}: a run with a {got!r} head; {request.run_dir} has a {kind!r} one"
            )
    request.others = [Path(p) for p in others]
    return request


def predict(request: PredictRequest) -> str:
    """Run the predictor; returns everything it wrote. Several runs only where the predictor
    says it averages them (its `averages` attribute)."""
    predictor = predictor_for(request.meta, request.stem)
    kind = request.meta["head"]["kind"]
    if request.others and not getattr(predictor, "averages", False):
        raise ValueError(f"runs with a {kind!r} head predict one at a time; give one RUN_DIR")
    if request.entities and not getattr(predictor, "entities", False):
        raise ValueError(
            f"--entities: {request.run_dir} is a {kind!r} model, which finds no entities; "
            "give a tagger trained on BIO/BIOES tags, or drop --entities"
        )
    if request.explain and not getattr(predictor, "explains", False):
        raise ValueError(f"explain: runs with a {kind!r} head cannot explain their predictions")
    predictor(request)
    return request.out.getvalue()
