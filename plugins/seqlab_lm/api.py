"""`seqlab.pretrain(...)` from Python: what `seqlab pretrain` does, without a command line.

Registered as `lm` in the entry-point group `seqlab.pretrainers`; the facade (seqlab.api)
calls it. `config_for` is shared with the command: the level's defaults, then a preset's
settings, then the ones given (flags, or keyword arguments) make the run's config.json.
"""

from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from seqlab.api import check_new_run, make_settings, new_run
from seqlab.data.tokenize import TextSettings
from seqlab.settings import unknown_setting
from seqlab.tasks import transfer
from seqlab.train.runlog import RunLog, default_run_dir
from seqlab_lm import init, presets, textdata
from seqlab_lm.data import corpus_of
from seqlab_lm.settings import PretrainSettings
from seqlab_lm.training import run

SETTINGS = {f.name for f in fields(PretrainSettings)}
# The text options of `seqlab pretrain PATH...` (textdata.OPTIONS), with the command's defaults.
TEXT_DEFAULTS: dict[str, Any] = {k: None for k in textdata.OPTIONS}
TEXT_DEFAULTS |= {"glob": False, "valid": ()}
TEXT_DEFAULTS |= {k: getattr(TextSettings(), k) for k in textdata.SETTINGS}


def config_for(
    corpus: tuple[str, ...], model: str | None, text: dict, values: dict, given: set[str]
) -> dict:
    """The config of a new run: the level's defaults, then the preset's settings, then the
    `given` ones of `values`; and the corpus, read or tokenized now. `values["init"]`: an LM
    run to continue from (seqlab_lm.init), whose architecture and vocab the run takes."""
    pre = None
    if values.get("init") is not None:  # read once, checked before the text is tokenized
        pre = transfer.load_pretrained(values["init"], bool(values.get("backward")))
        if "level" not in given:  # the --init LM's level
            values, given = {**values, "level": pre.level}, given | {"level"}
    settings = PretrainSettings.for_level(values.get("level", "word"))
    given_settings = {k: v for k, v in values.items() if k in given & SETTINGS}
    if pre is not None:
        init.check(pre, values["init"], replace(settings, **given_settings))
    name, text_config = textdata.resolve(corpus, text, given, settings.level)
    preset = presets.find(name, model) if model else None
    if preset is not None:
        settings = presets.apply(preset, settings)
    settings = replace(settings, **given_settings)
    source: dict[str, Any] = {"corpus": name, "level": settings.level, "text": text_config}
    corpus_ = corpus_of(source)
    vocab = corpus_.vocab
    if text_config and "epochs" not in given and preset is None:  # your text: sized to it
        settings = replace(settings, epochs=epochs_for(corpus_.n_tokens("train"), settings.level))
    if pre is not None:
        settings = init.settings_for(pre, settings, given, values["init"])
        vocab = transfer.extend_vocab(pre.vocab, vocab)
    config = settings.to_config(name, len(vocab), vocab.pad_idx)
    if pre is not None:
        config["init"] = init.config_entry(pre)
    if model and preset is not None:
        presets.configure(config, model, preset)
    if text_config:
        config["text"] = text_config
    return config


# Tokens a pretraining run on your text reads with no --epochs, over all its epochs: the
# epochs measured best per CPU second on english-text (docs/char-lm.md: 3 epochs over its
# 5.2M characters; word LMs: 2-3 epochs over its 1.1M tokens, docs/classify.md), so a text
# of another size gets the same amount of reading, from 1 epoch (a big text) up to the 30 of
# the word default (a small one; human-numbers, a registered corpus, keeps its 30).
TOKENS_READ = {"word": 3_000_000, "char": 15_000_000}
MAX_SIZED_EPOCHS = 30


def epochs_for(train_tokens: int, level: str) -> int:
    """The epochs of a run on `train_tokens` of your text when --epochs is not given."""
    return max(1, min(MAX_SIZED_EPOCHS, round(TOKENS_READ[level] / max(train_tokens, 1))))


def run_name(config: dict) -> str:
    """CORPUS[-MODEL][-char][-bwd]: what the default run directory is called."""
    parts = [config["corpus"], config.get("model"), config.get("level")]
    parts.append("bwd" if config["encoder"].get("backward") else None)
    return "-".join(p for p in parts if p)


def pretrain(
    corpus: tuple[str, ...],
    out: Path | None = None,
    *,
    quiet: bool = False,
    overwrite: bool = False,
    model: str | None = None,
    init: Path | None = None,
    **settings: Any,
) -> Path:
    """Train a language model on `corpus` (a registered corpus, or text files) in `out`;
    returns the run directory. `settings`: PretrainSettings' fields and the text options
    (TEXT_DEFAULTS' names)."""
    text = {k: settings.pop(k, v) for k, v in TEXT_DEFAULTS.items()}
    if isinstance(text["valid"], str | Path):
        text["valid"] = (str(text["valid"]),)
    text["valid"] = tuple(str(p) for p in text["valid"])
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        others = {"model", "init", "quiet", "overwrite"}
        raise unknown_setting(unknown[0], SETTINGS | set(TEXT_DEFAULTS) | others, "pretrain")
    make_settings(PretrainSettings, settings, "pretrain")  # types and ranges, before any work
    make_settings(TextSettings, {k: text[k] for k in textdata.SETTINGS}, "pretrain")
    given = set(settings) | {k for k, v in text.items() if v != TEXT_DEFAULTS[k]}
    text["quiet"] = quiet  # the token cache's report
    if out is not None:  # before the corpus is read: a refused out costs nothing
        check_new_run(Path(out), overwrite)
    config = config_for(tuple(corpus), model, text, {**settings, "init": init}, given)
    run_dir = Path(out) if out is not None else default_run_dir(run_name(config))
    check_new_run(run_dir, overwrite)
    with new_run(run_dir, overwrite):
        if not quiet:
            print(f"run directory: {run_dir}", file=sys.stderr, flush=True)
        history = run(config, run_dir, log=RunLog(quiet=quiet))
    if not quiet:
        best = min(history, key=lambda r: r["valid_loss"])
        print(
            f"best valid_loss {best['valid_loss']:.4f} at epoch {int(best['epoch'])}; "
            f"checkpoints in {run_dir}",
            file=sys.stderr,
            flush=True,
        )
    return run_dir
