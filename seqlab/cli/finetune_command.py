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

import json
from pathlib import Path
from typing import Any

import click

from seqlab.cli.options import (
    UserError,
    check_out,
    check_resumable,
    default_run_dir,
    device_option,
    finished,
    is_given,
    locked_run,
    lr_find_dir,
    lr_find_option,
    options_from,
    out_option,
    overwrite_option,
    quiet_option,
    refuse_with_resume,
    report_lr_find,
    resume_epochs,
    resume_option,
    seed_option,
    settings_from,
    status_echo,
    threads_option,
)
from seqlab.data.files import atomic_write
from seqlab.tasks.finetune import (
    CONFIG,
    FinetuneSettings,
    Task,
    find_lr,
    load_settings,
    run_finetune,
)
from seqlab.train.trainer import Interrupted


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
                overwrite_option,
                resume_option,
                threads_option,
                quiet_option,
                lr_find_option,
            ]
        ):
            command = option(command)
        return command

    return decorate


def run_command(task: Task, opts: dict[str, Any]) -> None:
    """The body of `seqlab finetune TASK`: settings, data, run directory, training, summary."""
    resume, out, quiet = opts.pop("resume"), opts.pop("out"), opts.pop("quiet")
    overwrite = opts.pop("overwrite")
    status = status_echo(quiet)
    if opts.pop("lr_find"):
        if resume is not None:
            raise UserError("--lr-find starts from the settings given, not a run: drop --resume")
        s = settings_from(task.settings, opts)
        data = task.read(s)
        directory = lr_find_dir(out, task.name)
        report_lr_find(find_lr(task, s, data, log=status), directory, quiet)
        return
    config = None  # a resumed run's config.json, rewritten when --epochs trains on
    if resume is not None:
        check_resumable(resume)
        s, config = _resume_settings(task, resume, opts)
        if finished(resume, s.epochs, f"seqlab finetune {task.name}"):
            return
        out = resume
    else:
        s = settings_from(task.settings, opts)
        out = check_out(out or default_run_dir(task.name), overwrite, _reading(s))
    data = task.read(s)  # every data error before anything is written
    status(f"run directory: {out}")
    with locked_run(out, "--resume" if resume else "--out", overwrite):
        if config is not None:
            atomic_write(out / CONFIG, json.dumps(config, indent=1))
        try:
            result = run_finetune(
                task, s, out, data=data, resume=resume is not None, log=status, quiet=quiet
            )
        except Interrupted:
            click.echo(
                f"interrupted - saved the last checkpoint; continue with "
                f"`seqlab finetune {task.name} --resume {out}`",
                err=True,
            )
            raise SystemExit(130) from None
    # the summary, on stdout: the report of the best checkpoint, then its headline
    click.echo(f"\n{result.scores.report}")
    click.echo(f"{result.headline()}; run dir {out}")


def _reading(s: FinetuneSettings) -> dict[str, list[Path]]:
    """The runs a new fine-tuning run reads (--encoder, a tagger's --backward-encoder, ...):
    its --out may be none of them."""
    fields = [n for n, v in vars(s).items() if n.endswith("encoder") and isinstance(v, tuple)]
    return {"--" + name.replace("_", "-"): list(getattr(s, name)) for name in fields}


def _resume_settings(
    task: Task, run_dir: Path, opts: dict[str, Any]
) -> tuple[FinetuneSettings, dict[str, Any] | None]:
    """The run's own settings (on --device), and its config to write if --epochs trains on."""
    refuse_with_resume(run_dir)
    s = load_settings(run_dir, task)
    saved = s.epochs
    s.epochs = resume_epochs(run_dir, saved, opts["epochs"] if is_given("epochs") else None)
    config = None
    if s.epochs != saved:
        config = {"task": task.name, "settings": {**s.to_json(), "device": s.device}}
    s.device = opts["device"]
    return s, config
