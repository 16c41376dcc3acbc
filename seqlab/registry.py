"""Plugin discovery through entry points; the core never imports a plugin by name.

Groups a plugin may register in (see pyproject.toml for the built-in ones):
  seqlab.corpora    NAME = callable returning a `Corpus`
  seqlab.heads      KIND = a `Head` subclass (rebuilt from checkpoints by kind)
  seqlab.commands   NAME = a click command added to `seqlab`
  seqlab.finetune   NAME = a click command added to `seqlab finetune`
  seqlab.encoders   KIND = an encoder class with `from_config(dict)`, for encoders other than
                    the core's StatefulEncoder (a checkpoint names its encoder's kind)
  seqlab.presets    CORPUS = callable returning named model settings for that corpus,
                    {NAME: preset dict} (see `presets` below)
  seqlab.datasets   NAME = callable returning a labelled dataset for fine-tuning, a dict:
                    {"task": "classify" | "tag" | ..., "description": str,
                     "train": [...], and "valid" and/or "test": [...]}; the task's plugin
                    says what an example is (classify: (text, label) pairs)
  seqlab.predictors KIND = function(PredictRequest) behind `seqlab predict` for runs whose
                    head is of that kind (see seqlab/tasks/predict.py)
  seqlab.pretrainers NAME = function(sources, out, quiet=, **settings) -> run dir, behind
                    the Python facade's `seqlab.pretrain` ("lm")
  seqlab.tasks      NAME = a fine-tuning `Task` (seqlab.tasks.finetune), behind
                    `seqlab.finetune_tag` ("tag"), `seqlab.finetune_classify` ("classify")
                    and `seqlab.finetune`
  seqlab.lms        NAME = function(backward: bool) -> Path of a shipped LM's checkpoint (a
                    forward and a backward one per name), checked before it is returned;
                    `--encoder NAME`, `--backward-encoder NAME`, `pretrain --init NAME`
  seqlab.predictor_classes  KIND = a `seqlab.api.Predictor` subclass: `seqlab.load(...)` of a
                    model whose head is of that kind
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

GROUPS = {
    "seqlab.corpora": "corpus",
    "seqlab.heads": "head",
    "seqlab.commands": "command",
    "seqlab.finetune": "fine-tuning task",
    "seqlab.encoders": "encoder",
    "seqlab.presets": "preset set",
    "seqlab.datasets": "dataset",
    "seqlab.predictors": "predictor",
    "seqlab.pretrainers": "pretrainer",
    "seqlab.tasks": "task",
    "seqlab.predictor_classes": "Python predictor",
    "seqlab.lms": "shipped LM",
}


class UnknownPlugin(LookupError):
    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        super().__init__(
            f"unknown {kind} {name!r}; known: {', '.join(known) or '(none installed)'}"
        )


def entries(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)}


def load(group: str, name: str) -> Any:
    found = entries(group)
    if name not in found:
        raise UnknownPlugin(GROUPS.get(group, group), name, list(found))
    return found[name].load()


def names(group: str) -> list[str]:
    return list(entries(group))


def corpus(name: str):
    """Build the registered corpus called `name`."""
    return load("seqlab.corpora", name)()


def head_class(kind: str):
    return load("seqlab.heads", kind)


def encoder_class(kind: str):
    return load("seqlab.encoders", kind)


def presets(corpus: str) -> dict[str, dict[str, Any]]:
    """The named model settings a plugin gives for `corpus` ({} when none). A preset is a
    dict: "help" (one line), "options" (values for the training command's options, by
    their Python names), optionally "reference" (a published figure to compare with),
    "encoder_kind" + "encoder" (an encoder from `seqlab.encoders` and its extra config)
    and "head" (extra head config)."""
    if corpus not in entries("seqlab.presets"):
        return {}
    return load("seqlab.presets", corpus)()


def dataset(name: str) -> dict[str, Any]:
    """The registered labelled dataset called `name` (see the group's note above)."""
    return load("seqlab.datasets", name)()


def listing() -> list[tuple[str, str, str, str]]:
    """(distribution, kind, name, target) for every registered entry point."""
    rows = []
    for group, kind in GROUPS.items():
        for ep in entries(group).values():
            dist = ep.dist.name if ep.dist is not None else "?"
            rows.append((dist, kind, ep.name, ep.value))
    return rows
