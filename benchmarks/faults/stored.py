"""Families `checkpoint`, `config` and `model-dir`: what seqlab does with stored files that were
corrupted, edited or swapped (load as predict does, resume, predict with an export)."""

from __future__ import annotations

import json
import pickle
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faults.corrupt import edit_json, fix_sha, json_edits, weight_corruptions
from faults.fixtures import Fixtures, scratch_copy
from faults.harness import Tally, invoke, same_weights, try_load, weights_of


def fam_checkpoint(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Corrupt a run's best checkpoint; load it as predict does (library) and through the CLI."""
    runs = ["lm", "clf"] if fx.quick else ["lm", "clf", "tagger"]
    for run in runs:
        src = fx.get(run)
        original = weights_of(src / "best")
        meta = json.loads((src / "best.json").read_text())
        cases: list[tuple[str, Callable]] = list(weight_corruptions(src / "best", rng, n))
        for desc, text in json_edits(meta, rng, n):
            cases.append((desc, lambda s, text=text: s.with_suffix(".json").write_text(text)))
        if "lm2" in fx._made or not fx.quick:
            other = fx.get("lm2")
            cases.append(("weights swapped with another run's", _swap(other, fix=False)))
            cases.append(("weights swapped with another run's (sha fixed)", _swap(other, True)))
        for desc, corrupt in cases:
            copy = scratch_copy(src, fx.root)
            corrupt(copy / "best")
            outcome, detail, got = try_load(copy / "best")
            if outcome == "ok" and got is not None:
                same = same_weights(_stored(got, original), original)
                outcome = "ok" if same or "sha256 fixed" in desc else "not-identical"
            t.add(outcome, f"{run} {desc}", detail)
            cli_too = not fx.quick or t.cases % 4 == 0  # quick: a sample of them
            if run != "lm" and cli_too:  # the CLI's answer too: one line, exit 2
                result = invoke("predict", copy, "--text", "good movie")
                t.add(result.kind, f"{run} predict, {desc}", result.output[-300:])
            shutil.rmtree(copy)


def _stored(state: dict, original: dict) -> dict:
    """The model's state dict restricted to what the file stores (tied twins are aliases)."""
    return {k: v for k, v in state.items() if k in original}


def _swap(other: Path, fix: bool) -> Callable[[Path], None]:
    def do(stem: Path) -> None:
        shutil.copy(other / "best.safetensors", stem.with_suffix(".safetensors"))
        if fix:
            fix_sha(stem)

    return do


def fam_config(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Edit a finished run's config.json and resume it (LM and classifier)."""
    commands = {"lm": ("pretrain",), "clf": ("finetune", "classify")}
    for run, command in commands.items():
        if fx.quick and run != "lm":  # a classifier's resume scores it again: slower
            continue
        src = fx.get(run)
        config = json.loads((src / "config.json").read_text())
        edits = list(json_edits(config, rng, n))
        if run == "lm" and not fx.quick:
            swapped = (fx.get("lm2") / "config.json").read_text()
            edits.append(("config.json from another run", swapped))
        if run == "lm":
            edits.append(("train.epochs = 10**12", _set(config, ("train", "epochs"), 10**12)))
        files = [("config.json", desc, text) for desc, text in edits]
        state = json.loads((src / "train_state.json").read_text())
        files += [("train_state.json", d, text) for d, text in json_edits(state, rng, n)]
        for name, desc, text in files:
            copy = scratch_copy(src, fx.root)
            (copy / name).write_text(text)
            result = invoke(*command, "--resume", copy)
            t.add(result.kind, f"{run} {name}: {desc}", result.output[-300:])
            shutil.rmtree(copy)


def _set(config: dict, path: tuple, value: Any) -> str:
    return json.dumps(edit_json(config, path, value))


def fam_model_dir(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Corrupt an exported model directory's files; predict with it."""
    src = fx.get("model-dir")
    config = json.loads((src / "config.json").read_text())
    cases: list[tuple[str, Callable[[Path], None]]] = []
    for desc, text in json_edits(config, rng, n):
        cases.append((f"config.json {desc}", _writer("config.json", text)))
    weights = (src / "model.safetensors").read_bytes()
    for k in (0, 8, len(weights) // 2):
        cases.append(
            (f"model.safetensors truncated to {k}", _writer_b("model.safetensors", weights[:k]))
        )
    cases.append(
        ("model.safetensors is a pickle", _writer_b("model.safetensors", pickle.dumps([1])))
    )
    for name in ("tokenizer.json", "model.safetensors"):
        cases.append((f"{name} deleted", lambda d, name=name: (d / name).unlink()))
    for desc, do in cases:
        copy = scratch_copy(src, fx.root)
        do(copy)
        result = invoke("predict", copy, "--text", "good movie")
        t.add(result.kind, desc, result.output[-300:])
        shutil.rmtree(copy)


def _writer(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text)


def _writer_b(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)
