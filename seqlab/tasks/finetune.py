"""Fine-tuning, the one path every task takes (ULMFiT's last stage, or a from-scratch baseline).

    settings ──► task.read ──► task.build ──► Trainer.fit ──► best checkpoint ──► task.score
    (checked)    (data, all     (model, loaders,  (run dir,      (reloaded as        (report.txt,
                 errors before   checkpoint meta)  resumable)     predict loads it)   scores.json)
                 any file)

A task plugin (tagging, classification, ...) supplies only what differs: its settings (a
subclass of `FinetuneSettings`, with its own fields and defaults), how to read its data, how
to build the model and loaders, and how to score a trained model. Everything else lives here
once: seeding, discriminative learning rates and gradual unfreezing, the Trainer, config.json,
resume, reloading the best checkpoint, scores.json. The CLI side is seqlab.cli.finetune_command.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from seqlab.data.files import atomic_write
from seqlab.data.vocab import Vocab
from seqlab.nn.model import SeqModel
from seqlab.settings import SettingError, check, from_dict, setting
from seqlab.store import validate
from seqlab.store.checkpoint import has_checkpoint, load_model, load_tensors, read_json
from seqlab.store.errors import CheckpointError
from seqlab.tasks import transfer
from seqlab.train import settings as train_settings
from seqlab.train.lr_find import LRFinding, lr_find
from seqlab.train.runlog import RunLog
from seqlab.train.trainer import MAX_EPOCHS, TrainConfig, Trainer, seed_everything

CONFIG = "config.json"
SCORES = "scores.json"
REPORT = "report.txt"


@dataclass
class FinetuneSettings:
    """What every fine-tuning task shares. A task subclasses it to add its own fields and to
    change a default (a field redeclared in the subclass)."""

    dataset: str | None = setting(None, "A registered dataset, instead of --train.", cli=False)
    train: Path | None = setting(None, "Labelled training file.", cli=False)
    valid: Path | None = setting(None, "Labelled validation file.", cli=False)
    test: Path | None = setting(None, "Labelled test file.", cli=False)
    encoder: tuple[Path, ...] = setting((), "Pretrained LM run directories.", cli=False)
    from_scratch: bool = setting(
        False,
        "The no-pretraining baseline: the same architecture with fresh weights.",
        cli=False,
    )
    epochs: int = setting(10, "Epochs of one-cycle training.", min=1, max=MAX_EPOCHS)
    lr: float = setting(1e-2, "Peak learning rate (the head's).", min=0, min_open=True)
    wd: float = setting(0.01, "AdamW weight decay.", min=0)
    bs: int = setting(32, "Examples per batch (at most).", min=1)
    discriminative: bool | None = setting(
        None,
        "Lower layer groups learn at lr / lr-factor per group (ULMFiT). "
        "[default: on with a pretrained encoder, off from scratch]",
    )
    unfreeze: bool | None = setting(
        None,
        "Gradual unfreezing: epoch 1 trains the head only, each later epoch one more group "
        "down. [default: on with a pretrained encoder, off from scratch]",
    )
    lr_factor: float = setting(
        transfer.ULMFIT_FACTOR,
        "Learning-rate ratio between neighbouring layer groups (with --discriminative).",
        min=1,
    )
    patience: int | None = train_settings.patience()
    max_minutes: float | None = train_settings.max_minutes()
    amp: bool = train_settings.amp()
    tensorboard: bool = train_settings.tensorboard()
    seed: int = setting(42, "Random seed.", min=0, cli=False)
    device: str = setting("auto", "auto, cpu or cuda.", choices=("auto", "cpu", "cuda"), cli=False)

    def __post_init__(self) -> None:
        for name in ("train", "valid", "test"):  # JSON (resume) gives strings
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        self.encoder = paths(self.encoder)
        check(self)
        train_settings.check(self)

    def to_json(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            return str(v) if isinstance(v, Path) else v

        return {k: plain(v) for k, v in dataclasses.asdict(self).items()}

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            wd=self.wd,
            seed=self.seed,
            device=self.device,
            patience=self.patience,
            max_minutes=self.max_minutes,
            amp=self.amp,
            tensorboard=self.tensorboard,
        )


def paths(value: Any) -> tuple[Path, ...]:
    """A repeatable path option as a tuple: None or () for none, one path, or several."""
    if value is None:
        return ()
    if isinstance(value, str | Path):
        return (Path(value),)
    return tuple(Path(v) for v in value)


@dataclass
class Built:
    """What a task builds from its data: the model, its loaders, and what its checkpoints
    record beside the weights (head, vocab, labels, how to read input for `predict`)."""

    model: SeqModel
    vocab: Vocab
    train_dl: Iterable
    valid_dl: Iterable
    meta: dict[str, Any]
    pretrained: bool  # an LM's weights were loaded (turns ULMFiT's recipe on by default)
    best_by: str = "valid_loss"  # the epoch-table column that picks `best`
    notes: list[str] = field(default_factory=list)  # lines worth a user's eye before training


@dataclass
class Scores:
    """A trained model on one split: headline metrics, a text report, extra files written."""

    metrics: dict[str, float]
    report: str
    n: int
    files: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # more for scores.json's "metrics"


@dataclass
class Result:
    split: str
    scores: Scores
    seconds: float
    history: list[dict[str, float]]
    run_dir: Path

    def summary(self) -> dict[str, Any]:
        """What scores.json holds."""
        return {
            "split": self.split,
            "n": self.scores.n,
            "metrics": {**self.scores.metrics, **self.scores.details},
            "seconds": round(self.seconds, 3),
        }

    def headline(self) -> str:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in self.scores.metrics.items())
        return f"{self.split} (best checkpoint, {self.scores.n} examples): {metrics}"


class Task(Protocol):
    """What a fine-tuning plugin supplies."""

    name: ClassVar[str]  # "tag", "classify": the checkpoint's task, the command's name
    settings: ClassVar[type[FinetuneSettings]]

    def read(self, s: Any) -> Any:
        """The data, every split checked: an error here leaves nothing on disk. The result
        has a `splits` dict ("train", "valid", optionally "test")."""
        ...

    def build(self, data: Any, s: Any) -> Built: ...

    def score(
        self, model: SeqModel, vocab: Vocab, meta: dict, data: Any, split: str, s: Any, out: Path
    ) -> Scores: ...


Log = Callable[[str], None]


def run_finetune(
    task: Task,
    s: FinetuneSettings,
    out: Path,
    data: Any = None,
    resume: bool = False,
    log: Log = print,
    quiet: bool = False,
    **trainer_options: Any,
) -> Result:
    """Fine-tune as `s` says in run directory `out` (read the data first unless given), then
    score the best checkpoint on the test split, else valid. With `resume`, continue the run
    `out` from its last checkpoint (its settings are `s`, as `load_settings` read them).
    `log` takes the status lines; `quiet` hides the epoch table (the files are still written)."""
    if quiet:
        trainer_options.setdefault("log", RunLog(quiet=True))
    start = time.perf_counter()
    data = task.read(s) if data is None else data
    built, mults, callbacks, discriminative, unfreeze = _recipe(task, s, data, log)
    model = built.model
    meta = {
        "task": task.name,
        **built.meta,
        "vocab": built.vocab.itos,
        "transfer": {
            "encoder": [str(p) for p in s.encoder] or None,
            "from_scratch": s.from_scratch,
            "discriminative": discriminative,
            "unfreeze": unfreeze,
            **built.meta.get("transfer", {}),
        },
    }
    trainer = Trainer(
        model,
        built.train_dl,
        built.valid_dl,
        s.train_config(),
        run_dir=out,
        meta=meta,
        lr_mults=mults,
        callbacks=callbacks,
        best_by=built.best_by,
        **trainer_options,
    )
    if resume:
        trainer.load_last(out)
    else:
        config = {"task": task.name, "settings": s.to_json()}
        atomic_write(out / CONFIG, json.dumps(config, indent=1))
    history = trainer.fit()
    split = "test" if "test" in data.splits else "valid"
    best, vocab, best_meta = load_model(out / "best")
    scores = task.score(best, vocab, best_meta, data, split, s, out)
    result = Result(split, scores, time.perf_counter() - start, history, out)
    atomic_write(out / REPORT, f"{split} split, best checkpoint\n\n{scores.report}")
    atomic_write(out / SCORES, json.dumps(result.summary(), indent=1))
    return result


def _recipe(task: Task, s: FinetuneSettings, data: Any, log: Log) -> tuple:
    """(built, lr_mults, callbacks, discriminative, unfreeze): the model and loaders, and
    ULMFiT's recipe for them, seeded; the notes worth a user's eye go to `log`."""
    seed_everything(s.seed)
    built = task.build(data, s)
    discriminative = built.pretrained if s.discriminative is None else s.discriminative
    unfreeze = built.pretrained if s.unfreeze is None else s.unfreeze
    mults, callbacks = transfer.fine_tuning(built.model, discriminative, unfreeze, s.lr_factor)
    n_groups = len(built.model.layer_groups())
    notes = list(built.notes)
    if unfreeze and s.epochs < n_groups:
        notes.append(
            f"note: gradual unfreezing opens one of {n_groups} layer groups per epoch; with "
            f"{s.epochs} epochs the lowest {n_groups - s.epochs} never train"
        )
    for line in notes:
        log(line)
    return built, mults, callbacks, discriminative, unfreeze


def find_lr(task: Task, s: FinetuneSettings, data: Any = None, log: Log = print) -> LRFinding:
    """The learning-rate finder on this task's model and data, trained as its first epoch
    would be (with gradual unfreezing: the head only); nothing is written."""
    data = task.read(s) if data is None else data
    built, mults, callbacks, _, _ = _recipe(task, s, data, log)
    config = dataclasses.replace(s.train_config(), epochs=1, tensorboard=False)
    trainer = Trainer(
        built.model,
        built.train_dl,
        built.valid_dl,
        config,
        lr_mults=mults,
        callbacks=callbacks,
        log=RunLog(quiet=True),
    )
    return lr_find(trainer)


def load_settings(run_dir: Path, task: Task) -> FinetuneSettings:
    """The settings a fine-tuning run in `run_dir` was started with (for resume)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file; is {run_dir} a fine-tuning run directory?")
    config = read_json(path, "seqlab run config")
    if not isinstance(config, dict) or config.get("task") != task.name:
        got = config.get("task") if isinstance(config, dict) else None
        raise CheckpointError(f"{path}: a run of task {got!r}, not {task.name!r}")
    if not has_checkpoint(Path(run_dir) / "train_state"):
        raise CheckpointError(f"{run_dir}: no train_state.json there, nothing to resume")
    tensors, state = load_tensors(Path(run_dir) / "train_state")  # broken: one line, now
    validate.check_train_state(tensors, state, Path(run_dir) / "train_state.json")
    settings = config.get("settings")
    if not isinstance(settings, dict):
        raise CheckpointError(f"{path}: missing field 'settings'")
    try:
        return from_dict(task.settings, settings)
    except SettingError as e:  # an edited file: name the file and the field, not a flag
        raise CheckpointError(f"{path}: field 'settings.{e.name}' {e.problem}") from None
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: field 'settings': {e}") from None
