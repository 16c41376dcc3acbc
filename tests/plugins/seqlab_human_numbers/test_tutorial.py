"""docs/tutorial.md runs as written: every line of its ```sh blocks is run, in order, in one
empty directory, with tiny training so the test stays fast.

The only rewrites (documented at the end of the tutorial): `seqlab pretrain` and `seqlab lesson`
train 1 epoch (`--epochs N` becomes `--epochs 1`, or `--epochs 1` is added) and `--seeds N`
becomes `--seeds 1`. `seqlab ...` lines run in this process through click (no interpreter
start-up per command), and so does the code of a `python -c "..."` line; any other line runs in
bash, with this interpreter's bin directory first on PATH.
"""

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli

TUTORIAL = Path(__file__).parents[3] / "docs" / "tutorial.md"
TRAINING = ("pretrain", "lesson")


def commands(markdown: str) -> list[str]:
    """The lines of the ```sh blocks, without comments and blank lines."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.M | re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def fast(command: str) -> str:
    """The same command with 1 epoch and 1 seed (for `seqlab pretrain` and `seqlab lesson`)."""
    words = shlex.split(command)
    if words[:1] != ["seqlab"] or len(words) < 2 or words[1] not in TRAINING:
        return command
    command = re.sub(r"--seeds \d+", "--seeds 1", command)
    if "--epochs" in words:
        return re.sub(r"--epochs \d+", "--epochs 1", command)
    return command + " --epochs 1"


def test_fast_rewrites_only_training_commands():
    assert fast("seqlab pretrain human-numbers --model model3") == (
        "seqlab pretrain human-numbers --model model3 --epochs 1"
    )
    assert fast("seqlab lesson human-numbers --seeds 3 --epochs 20") == (
        "seqlab lesson human-numbers --seeds 1 --epochs 1"
    )
    assert fast("seqlab show-batch human-numbers") == "seqlab show-batch human-numbers"
    assert fast("head -3 data/train.txt") == "head -3 data/train.txt"


def test_the_tutorial_has_the_lessons_commands():
    found = commands(TUTORIAL.read_text(encoding="utf-8"))
    for name in ("model0", "model1", "model2", "model3", "model4", "model5"):
        assert any(f"--model {name}" in c for c in found), name
    assert any(c.startswith("seqlab lesson human-numbers") for c in found)
    assert any(c.startswith("seqlab show-batch") for c in found)
    assert any(c.startswith("seqlab export") for c in found)


def test_every_command_in_the_tutorial_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in commands(TUTORIAL.read_text(encoding="utf-8")):
        command = fast(command)
        words = shlex.split(command)
        if words[0] == "seqlab" and "|" not in command:
            result = CliRunner().invoke(cli, words[1:])
            ok, output = result.exit_code == 0, f"{result.output}{result.exception!r}"
        elif words[:2] == ["python", "-c"] and len(words) == 3:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                exec(words[2], {})
            ok, output = True, out.getvalue()
        else:
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env)
            ok, output = done.returncode == 0, done.stdout + done.stderr
        if not ok:
            pytest.fail(f"tutorial command failed: {command}\n{output}")
