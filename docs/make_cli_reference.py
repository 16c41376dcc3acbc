"""Write docs/cli.md from the commands' own --help, so the reference cannot drift.

python docs/make_cli_reference.py          # rewrite docs/cli.md
python docs/make_cli_reference.py --check  # exit 1 if docs/cli.md is stale (a test runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from seqlab.cli.main import cli

OUT = Path(__file__).with_name("cli.md")


def sections(group: click.Group, ctx: click.Context, path: list[str]):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(
            command, info_name=name, parent=ctx, terminal_width=100, max_content_width=100
        )
        yield [*path, name], command.get_help(sub)
        if isinstance(command, click.Group):
            yield from sections(command, sub, [*path, name])


def reference() -> str:
    root = click.Context(
        cli, info_name="seqlab", terminal_width=100, max_content_width=100, **cli.context_settings
    )
    parts = [
        "# CLI reference\n",
        "Generated from each command's `--help` by `python docs/make_cli_reference.py`;",
        "a test fails when this file is stale.\n",
        "```\n" + cli.get_help(root) + "\n```\n",
    ]
    for path, text in sections(cli, root, ["seqlab"]):
        parts.append(f"## `{' '.join(path)}`\n\n```\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    text = reference()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
