"""`seqlab finetune TASK`: the command every fine-tuning task shares.

A task plugin writes its command as

    @click.command("tag")
    @finetune_options(TagSettings, encoder_help="...")
    @user_errors
    def finetune_tag(**opts):
        '''The task's --help text.'''
        run_command(TAGGING, opts)

and gets the shared options (DATASET, --train/--valid/--test, --encoder, --from-scratch,
the training settings generated from the task's settings dataclass, --seed, --device, --out,
--resume), the checks, the run directory, Ctrl-C handling and the summary, the same in every
task: the epoch table and the report on stdout, status lines on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from seqlab.finetune import FinetuneSettings, Task, load_settings, run_finetune
from seqlab.options import (
    UserError,
    default_run_dir,
    device_option,
    options_from,
    out_option,
    resume_option,
    seed_option,
    settings_from,
    writable_dir,
)
from seqlab.train import Interrupted

# With --resume the run's own settings are used; only where it runs may change.
RESUME_MAY_CHANGE = ("resume", "device")


def _file(help_text: str):
    return {
        "type": click.Path(path_type=Path, exists=True, dir_okay=False),
        "default": None,
        "help": help_text,
    }


def finetune_options(
    settings: type[FinetuneSettings],
    *,
    data_help: str,
    valid_help: str,
    encoder_help: str,
    scratch_help: str,
    repeat_encoder: bool = False,
    **defaults: Any,
):
    """The options of `seqlab finetune TASK`, shared ones first, then the task's own."""

    def decorate(command):
        for option in reversed(
            [
                click.argument("dataset", required=False),
                click.option("--train", **_file(data_help)),
                click.option("--valid", **_file(valid_help)),
                click.option(
                    "--test",
                    **_file("Labelled test file, scored once at the end with the best checkpoint."),
                ),
                click.option(
                    "--encoder",
                    type=click.Path(path_type=Path),
                    multiple=repeat_encoder,
                    default=None,
                    help=encoder_help,
                ),
                click.option("--from-scratch", is_flag=True, help=scratch_help),
                options_from(settings, **defaults),
                seed_option(),
                device_option,
                out_option(settings.__name__.removesuffix("Settings").lower()),
                resume_option,
            ]
        ):
            command = option(command)
        return command

    return decorate


def run_command(task: Task, opts: dict[str, Any]) -> None:
    """The body of `seqlab finetune TASK`: settings, data, run directory, training, summary."""
    resume, out = opts.pop("resume"), opts.pop("out")
    if resume is not None:
        s = _resume_settings(task, resume, opts)
        out = resume
    else:
        s = settings_from(task.settings, opts)
    data = task.read(s)  # every data error before anything is written
    out = writable_dir(out or default_run_dir(task.name), "--resume" if resume else "--out")
    click.echo(f"run directory: {out}", err=True)
    try:
        result = run_finetune(task, s, out, data=data, resume=resume is not None, log=_status)
    except Interrupted:
        click.echo(
            f"interrupted - saved the last checkpoint; continue with "
            f"`seqlab finetune {task.name} --resume {out}`",
            err=True,
        )
        raise SystemExit(130) from None
    click.echo(f"\n{result.scores.report}")
    click.echo(f"{result.headline()}; run dir {out}", err=True)


def _status(line: str) -> None:
    click.echo(line, err=True)


def _resume_settings(task: Task, run_dir: Path, opts: dict[str, Any]) -> FinetuneSettings:
    ctx = click.get_current_context()
    given = [
        name
        for name in ctx.params
        if name not in RESUME_MAY_CHANGE
        and ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    ]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise UserError(
            f"--resume {run_dir} continues with the run's own settings; drop {flags} "
            f"(or start a new run with --out)"
        )
    s = load_settings(run_dir, task)
    s.device = opts["device"]
    return s
