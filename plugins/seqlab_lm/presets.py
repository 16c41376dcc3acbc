"""Named presets (`--model NAME`): settings a corpus plugin registers for its corpus.

A preset supplies the value of every setting the user did not give on the command line
(it is applied onto PretrainSettings, then the user's flags on top): a flag always wins.
Presets come through the `seqlab.presets` entry-point group (format in seqlab.registry), so
this plugin never imports the plugin that defines them.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import click
from click.core import ParameterSource

from seqlab import encoder_from_config, registry
from seqlab_lm.settings import PretrainSettings


def find(corpus: str, name: str) -> dict[str, Any]:
    known = registry.presets(corpus)
    if name not in known:
        have = ", ".join(known) if known else "none"
        raise ValueError(f"--model {name}: unknown preset for corpus {corpus!r} (presets: {have})")
    return known[name]


def given_on_command_line(ctx: click.Context) -> set[str]:
    """Names of the parameters the user set (flag or environment), not left at their default."""
    return {
        name
        for name in ctx.params
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    }


def apply(preset: dict[str, Any], settings: PretrainSettings) -> PretrainSettings:
    """`settings` with the preset's values (the user's flags go on top of these)."""
    unknown = sorted(set(preset["options"]) - {f.name for f in fields(PretrainSettings)})
    if unknown:
        raise ValueError(f"this preset sets options pretrain lacks: {', '.join(unknown)}")
    return replace(settings, **preset["options"])


def configure(config: dict[str, Any], name: str, preset: dict[str, Any]) -> dict[str, Any]:
    """Add what a preset sets beyond command-line options to a run config (a plugin's encoder,
    head settings), and check that the encoder can be built, before any run starts."""
    config["model"] = name
    if "encoder_kind" in preset:
        config["encoder_kind"] = preset["encoder_kind"]
    config["encoder"].update(preset.get("encoder", {}))
    config["head"]["config"].update(preset.get("head", {}))
    try:
        encoder = encoder_from_config(config["encoder"], config.get("encoder_kind"))
    except (TypeError, ValueError) as e:
        raise ValueError(f"--model {name}: {e}") from None
    # An encoder may read batches of limited length only (model0 is unrolled for 3 tokens).
    max_len, data = getattr(encoder, "max_len", None), config["data"]
    if max_len is not None and (data["bptt"] > max_len or data["random_bptt"]):
        raise ValueError(
            f"--model {name} reads at most {max_len} tokens per batch: "
            f"use --bptt {max_len} --fixed-bptt"
        )
    return config
