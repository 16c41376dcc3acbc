"""The guides' "your own data" commands run as written on the sample files in examples/.

A block of commands marked `<!-- runs as written: tests/core/test_examples.py -->` in a guide
is run line by line, in order, in an empty directory that holds only examples/. The commands
run in this process (seqlab's CLI through click's test runner: no second start of torch), with
`cat FILE | ` read as stdin and `> FILE` as where stdout goes, the two shell forms the guides
use. Nothing is added to or changed in a command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
MARK = "<!-- runs as written: tests/core/test_examples.py -->"
GUIDES = [
    "docs/tagging.md",
    "docs/ner.md",
    "docs/classify.md",
    "docs/tutorial.md",
    "docs/scale.md",
    "README.md",
]


def marked_commands(text: str) -> list[str]:
    """The commands of every marked ```bash block: continuation lines joined, comments gone."""
    commands = []
    for block in re.findall(re.escape(MARK) + r"\n```bash\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        commands += [c.strip() for c in joined.splitlines() if c.strip() and c[0] != "#"]
    return commands


def run_line(line: str, cwd: Path) -> None:
    stdin = None
    if line.startswith("cat "):
        source, line = line[len("cat ") :].split("|", 1)
        stdin = (cwd / source.strip()).read_text(encoding="utf-8")
    words = shlex.split(line)
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    assert words[0] == "seqlab", f"not a seqlab command: {line}"
    result = CliRunner().invoke(cli, words[1:], input=stdin)
    assert result.exit_code == 0, f"{line}\n{result.output}"
    if target is not None:
        (cwd / target).write_text(result.stdout, encoding="utf-8")


@pytest.mark.parametrize("guide", ["docs/tagging.md", "docs/ner.md", "docs/classify.md"])
def test_the_guides_commands_run_as_written(guide, tmp_path, monkeypatch):
    commands = marked_commands((ROOT / guide).read_text(encoding="utf-8"))
    assert len(commands) >= 5, f"{guide}: its marked block is gone"
    (tmp_path / "examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SEQLAB_THREADS", "1")
    for line in commands:
        run_line(line, tmp_path)
    outputs = [w for c in commands for w in re.findall(r"> (\S+)|--out (\S+\.tsv)", c)]
    for found in outputs:
        path = tmp_path / "".join(found)
        assert path.read_text(encoding="utf-8").strip(), f"{path.name} is empty"


def test_every_example_file_the_guides_name_exists():
    for guide in GUIDES:
        text = (ROOT / guide).read_text(encoding="utf-8")
        for name in re.findall(r"\bexamples/[\w./-]*\w/?", text):
            assert (ROOT / name).exists(), f"{guide} names {name}, which examples/ lacks"


def test_the_samples_are_what_make_examples_writes(tmp_path, monkeypatch):
    """The committed samples are the script's output (so they can be rebuilt, and are)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written, "make_examples wrote nothing"
    for rel in written:
        assert (EXAMPLES / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
