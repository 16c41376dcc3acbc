"""seqlab from Python: pretrain, fine-tune, predict, export and load in a line each.

    run = seqlab.pretrain(["my-text/"], epochs=5)                 # -> Run
    tagger = seqlab.finetune_tag("train.conllu", "dev.conllu", encoders=[run])
    clf = seqlab.finetune_classify("train.csv", encoder=run)
    model = clf.load()                                            # -> Predictor
    model.predict(["a text", "another"])   # [{"label": ..., "probs": {...}}, ...]
    model.save_pretrained("my-model/")     # a directory others can seqlab.load()

The settings are the CLI's, from the same dataclasses (PretrainSettings, TagSettings,
ClassifySettings: `--lr-factor` is `lr_factor=`), with the same defaults, and training takes
the CLI's path (seqlab_lm.training.run, seqlab.tasks.finetune.run_finetune); progress shows as on
the command line unless `quiet=True`. An unknown setting or a bad value is a `SettingError`
(a ValueError) naming the setting.

This module sits above the library, beside the CLI kit: it reaches the task plugins through
the registry (entry-point groups `seqlab.pretrainers`, `seqlab.tasks`,
`seqlab.predictor_classes`), never by name, and imports neither click nor rich at import.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
import typing
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from seqlab import registry
from seqlab.settings import SettingError, unknown_setting
from seqlab.store import modeldir, rundir
from seqlab.store.errors import CheckpointError
from seqlab.tasks.finetune import SCORES, Task, run_finetune
from seqlab.tasks.predict import load_any
from seqlab.train.runlog import default_run_dir
from seqlab.train.trainer import resolve_device

PathLike = str | Path


class Run:
    """A training run's directory: its epoch table, scores, and the model it trained."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise CheckpointError(f"{self.path}: no such run directory")

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __fspath__(self) -> str:  # a Run goes wherever a run directory's path does
        return str(self.path)

    @property
    def metrics(self) -> list[dict[str, float]]:
        """The epoch table (metrics.csv) as records: epoch, train_loss, valid_loss, the
        head's metrics, time (seconds)."""
        path = self.path / "metrics.csv"
        if not path.is_file():
            return []
        with path.open(newline="", encoding="utf-8") as f:
            return [
                {k: int(v) if k == "epoch" else float(v) for k, v in row.items()}
                for row in csv.DictReader(f)
            ]

    @property
    def scores(self) -> dict[str, Any]:
        """scores.json of a fine-tuning run ({"split", "n", "metrics", "seconds"}); {} for a
        language model."""
        path = self.path / SCORES
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @property
    def config(self) -> dict[str, Any]:
        """The run's config.json: its settings."""
        path = self.path / "config.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def load(self, device: str = "auto") -> Predictor:
        """The run's best model (else its last), ready to predict."""
        return load(self.path, device=device)

    def export(self, directory: PathLike, overwrite: bool = False) -> Path:
        """Write the run's best model as a model directory (`seqlab export-model`); an earlier
        export there is replaced only with `overwrite=True`."""
        return self.load(device="cpu").save_pretrained(directory, overwrite)


class Predictor:
    """A trained model ready to predict, from a run directory or an exported model directory.

    A task plugin subclasses it for its head's kind (entry-point group
    `seqlab.predictor_classes`) and implements `_predict(items)`; `items` are word lists or
    texts, as given."""

    kind: ClassVar[str] = ""

    def __init__(self, model, vocab, meta: dict[str, Any], path: Path, device: str = "auto"):
        self.model, self.vocab, self.meta, self.path = model, vocab, meta, Path(path)
        self.device = resolve_device(device)
        self.model.to(self.device).eval()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def labels(self) -> list[str]:
        """The classes (classifier) or tags (tagger) it predicts; [] for a language model."""
        return list(self.meta.get("labels") or self.meta["head"]["config"].get("tags") or [])

    def predict(self, texts: str | Sequence[str | Sequence[str]], bs: int = 64, **options: Any):
        """Predictions for a list of texts (str) or of word lists, in order: a list of plain
        dicts (what is in them depends on the task). One text (a str) gives one dict."""
        if isinstance(texts, str):
            return self.predict([texts], bs, **options)[0]
        items = [t if isinstance(t, str) else [str(w) for w in t] for t in texts]
        if bs < 1:
            raise SettingError("bs", f"must be at least 1, got {bs}")
        return self._predict(items, bs, **options)

    def _predict(self, items: list[str | list[str]], bs: int, **options: Any) -> list[dict]:
        raise NotImplementedError

    def generate(self, prompt: str, n: int = 40, **options: Any) -> str:
        """Continue `prompt` by `n` tokens: language models only."""
        raise TypeError(f"a {self.kind} model cannot generate text; load a language model")

    def save_pretrained(self, directory: PathLike, overwrite: bool = False) -> Path:
        """Write the model as a directory others can `seqlab.load` (config.json,
        model.safetensors, tokenizer.json or vocab.json, README.md); returns it. The directory
        is new or empty; an earlier export is replaced only with `overwrite=True`."""
        return modeldir.write(
            Path(directory), self.model, self.vocab, self.meta, training_of(self), overwrite
        )


def training_of(p: Predictor) -> dict[str, Any]:
    """What the model card tells of the training: a run's settings and scores, or what an
    exported directory already told."""
    if p.meta.get("training"):
        return dict(p.meta["training"])
    run = p.path if p.path.is_dir() else p.path.parent
    config = Run(run).config
    out: dict[str, Any] = {"settings": config.get("settings") or config}
    if config.get("text"):
        out["text"] = config["text"]
    scores = Run(run).scores
    if scores:
        out["scores"] = scores
    if p.meta.get("metrics"):
        out["metrics"] = {k: v for k, v in p.meta["metrics"].items() if k not in ("epoch", "time")}
    return out


def load(path: PathLike, device: str = "auto") -> Predictor:
    """A Predictor for a run directory (its best checkpoint, else last), a checkpoint, or an
    exported model directory. Reading never runs code from the files (JSON, safetensors)."""
    path = Path(path)
    model, vocab, meta = load_any(path)
    kind = meta["head"]["kind"]
    known = registry.names("seqlab.predictor_classes")
    if kind not in known:
        raise CheckpointError(
            f"{path}: a model with a {kind!r} head; Python predictors are installed for "
            f"{', '.join(known) or 'none'}"
        )
    cls = registry.load("seqlab.predictor_classes", kind)
    return cls(model, vocab, meta, path, device)


# -- training ----------------------------------------------------------------------------------


def pretrain(
    corpus_or_paths: str | PathLike | Iterable[PathLike],
    out: PathLike | None = None,
    *,
    quiet: bool = False,
    **settings: Any,
) -> Run:
    """Pretrain a language model, as `seqlab pretrain` does, and return its Run.

    `corpus_or_paths`: a registered corpus ("human-numbers") or text files and directories.
    `settings`: PretrainSettings' fields (epochs=, hidden=, level="char", ...), `model=` (a
    preset), and for text files valid=, doc_per_line=, max_vocab=, min_freq=, errors=,
    valid_fraction=, glob=, cache_dir=; init= (an LM to continue from). `out`: the run
    directory [default: runs/CORPUS-YYYYmmdd-HHMMSS], new or empty unless `overwrite=True`."""
    sources: tuple[str, ...]
    if isinstance(corpus_or_paths, str | Path):
        sources = (str(corpus_or_paths),)
    else:
        sources = tuple(str(p) for p in corpus_or_paths)
    if not sources:
        raise ValueError("pretrain: give a registered corpus or some text files")
    run_dir = registry.load("seqlab.pretrainers", "lm")(
        sources, Path(out) if out is not None else None, quiet=quiet, **settings
    )
    return Run(run_dir)


def finetune(
    task: str,
    train: PathLike | None = None,
    valid: PathLike | None = None,
    out: PathLike | None = None,
    *,
    quiet: bool = False,
    overwrite: bool = False,
    **settings: Any,
) -> Run:
    """Fine-tune for a registered task ("tag", "classify"), as `seqlab finetune TASK` does.
    `train`: a labelled file, or the name of a registered dataset. `out` must be new or
    empty unless `overwrite`."""
    t: Task = registry.load("seqlab.tasks", task)
    values = {**settings}
    if train is not None:
        is_file = Path(train).exists() or not isinstance(train, str)
        if not is_file and train in registry.names("seqlab.datasets"):
            values["dataset"] = train
        else:
            values["train"] = Path(train)
    if valid is not None:
        values["valid"] = Path(valid)
    s = make_settings(t.settings, values, f"finetune_{task}")
    run_dir = Path(out) if out is not None else default_run_dir(t.name)
    check_new_run(run_dir, overwrite)
    data = t.read(s)  # every data error before anything is written
    status = _quiet if quiet else _stderr
    with new_run(run_dir, overwrite):
        status(f"run directory: {run_dir}")
        result = run_finetune(t, s, run_dir, data=data, log=status, quiet=quiet)
    if not quiet:
        print(f"\n{result.scores.report}")
    status(f"{result.headline()}; run dir {run_dir}")
    return Run(run_dir)


def check_new_run(run_dir: Path, overwrite: bool) -> None:
    """A new run may go in `run_dir`: it is absent or empty, or `overwrite` (as the CLI's
    --out and --overwrite); nothing is created."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"out={str(run_dir)!r}: a file, not a directory; choose another out")
    if not overwrite and not rundir.is_empty(run_dir):
        raise ValueError(
            f"out={str(run_dir)!r} is not empty: pass overwrite=True to replace the run there, "
            f"or choose another out"
        )


@contextmanager
def new_run(run_dir: Path, overwrite: bool) -> Iterator[Path]:
    """The run directory, created and locked (run.lock) while the run trains; with
    `overwrite`, the run that was there is deleted once the lock is held."""
    with rundir.RunLock(run_dir):
        if overwrite:
            rundir.clear_run(run_dir)
        yield run_dir


def finetune_tag(
    train: PathLike,
    valid: PathLike | None = None,
    encoders: PathLike | Run | Iterable[PathLike | Run] = (),
    **settings: Any,
) -> Run:
    """Train a tagger (`seqlab finetune tag`): `train`/`valid` CoNLL or CoNLL-U files (or a
    registered dataset's name as `train`); `encoders`: pretrained LM runs, forward ones (give
    backward ones as backward_encoder=[...]), or a shipped LM's name ("english": its forward
    LM here, its backward one as backward_encoder=["english"]); other settings: TagSettings'
    fields (epochs=, crf=True, ...), out=, quiet=."""
    if isinstance(encoders, str | Path | Run):  # one LM
        encoders = [encoders]
    return finetune("tag", train, valid, encoder=[Path(e) for e in encoders], **settings)


def finetune_classify(
    train: PathLike,
    valid: PathLike | None = None,
    encoder: PathLike | Run | None = None,
    **settings: Any,
) -> Run:
    """Train a text classifier (`seqlab finetune classify`): `train`/`valid` .csv, .tsv or
    .jsonl files (or a registered dataset's name); `encoder`: a pretrained LM run (else give
    from_scratch=True); other settings: ClassifySettings' fields, out=, quiet=."""
    enc = [Path(encoder)] if encoder is not None else []
    return finetune("classify", train, valid, encoder=enc, **settings)


def make_settings(cls: type, values: dict[str, Any], where: str) -> Any:
    """`cls(**values)`, an unknown name a SettingError that lists the known ones."""
    names = [f.name for f in dataclasses.fields(cls)]
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if name not in names:
            known = [n for n in names if n not in ("dataset", "train", "valid")]
            raise unknown_setting(name, known, where)
        problem = type_problem(hints[name], value)
        if problem:
            raise SettingError(name, problem)
    try:
        return cls(**values)
    except TypeError as e:  # e.g. a value of the wrong type that check() could not judge
        raise ValueError(f"{where}: {e}") from None


def type_problem(hint: Any, value: Any) -> str | None:
    """What is wrong with the type of a setting's value (the CLI's option types do this for
    flags): a number for an int or float, True/False for a bool, text for a str."""
    optional = type(None) in typing.get_args(hint)
    if value is None:
        return None if optional else "must be given (None is not a value for it)"
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if optional and len(args) == 1 else hint
    if base is bool and not isinstance(value, bool):
        return f"must be True or False, got {value!r}"
    if base is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be a whole number, got {value!r}"
    if base is float and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"must be a number, got {value!r}"
    if base is str and not isinstance(value, str):
        return f"must be a string, got {value!r}"
    return None


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _quiet(line: str) -> None:
    pass
