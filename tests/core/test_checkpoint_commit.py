"""Checkpoints saved together are committed as a unit: a crash at any point of a save leaves
the previous set or the new one, never a mix, and the next save carries on."""

import errno
import json
import os

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.store import checkpoint
from seqlab.store.checkpoint import MANIFEST, load_tensors, save_checkpoints, save_tensors
from seqlab.store.errors import CheckpointError


class Crash(BaseException):
    """The process dies here (nothing after it runs)."""


def parts(gen, names=("last", "train_state")):
    """A save whose every tensor and field says which save it was."""
    return {n: ({"w": torch.full((3,), float(gen))}, {"gen": gen}) for n in names}


def loaded(directory, name):
    tensors, meta = load_tensors(directory / name)
    assert tensors["w"].eq(meta["gen"]).all(), "weights and JSON of two different saves"
    return meta["gen"]


def crash_after(monkeypatch, n_ops):
    """Kill the save after `n_ops` file operations (a write's rename, a rename, a delete)."""
    done = [0]

    def counted(real):
        def op(*args, **kwargs):
            if done[0] == n_ops:
                raise Crash
            done[0] += 1
            return real(*args, **kwargs)

        return op

    monkeypatch.setattr(checkpoint.os, "replace", counted(os.replace))
    monkeypatch.setattr(checkpoint.Path, "unlink", counted(checkpoint.Path.unlink))


@settings(max_examples=25, deadline=None)
@given(
    n_ops=st.integers(0, 12),
    with_best=st.booleans(),
    second_crash=st.integers(0, 12),
)
def test_a_crash_anywhere_in_a_save_leaves_one_whole_set(
    tmp_path_factory, n_ops, with_best, second_crash
):
    run = tmp_path_factory.mktemp("run")
    save_checkpoints(run, parts(1, ("best", "last", "train_state")))
    names = ("best", "last", "train_state") if with_best else ("last", "train_state")
    with pytest.MonkeyPatch.context() as mp:
        crash_after(mp, n_ops)
        try:
            save_checkpoints(run, parts(2, names))
        except Crash:
            pass
    last, state = loaded(run, "last"), loaded(run, "train_state")
    assert last == state in (1, 2)
    assert loaded(run, "best") in ((1, 2) if with_best else (1,))
    if with_best:
        assert loaded(run, "best") == last  # best was part of the same commit
    # the next save, itself killed anywhere, still leaves a whole set: the newer one or 3
    with pytest.MonkeyPatch.context() as mp:
        crash_after(mp, second_crash)
        try:
            save_checkpoints(run, parts(3))
        except Crash:
            pass
    again = loaded(run, "last")
    assert again == loaded(run, "train_state") and again in (last, 3)
    save_checkpoints(run, parts(4))
    assert loaded(run, "last") == loaded(run, "train_state") == 4
    assert not [p.name for p in run.iterdir() if ".next." in p.name or p.name.endswith(".tmp")]


def test_an_unfinished_save_is_ignored_and_said_so(tmp_path, monkeypatch, capsys):
    save_checkpoints(tmp_path, parts(1))
    real = checkpoint.atomic_write

    def no_commit(path, data):
        if path.name == MANIFEST:
            raise Crash
        real(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write", no_commit)
    with pytest.raises(Crash):
        save_checkpoints(tmp_path, parts(2))
    assert (tmp_path / "last.next.json").is_file()  # written, never committed
    assert loaded(tmp_path, "last") == 1
    assert "a save that did not finish" in capsys.readouterr().err


def test_a_full_disk_keeps_the_previous_checkpoints(tmp_path, monkeypatch):
    save_checkpoints(tmp_path, parts(1))
    real, calls = checkpoint.atomic_write, []

    def disk_full_on_the_third_file(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write", disk_full_on_the_third_file)
    with pytest.raises(CheckpointError, match="No space left on device.*saved before are kept"):
        save_checkpoints(tmp_path, parts(2))
    monkeypatch.undo()
    assert loaded(tmp_path, "last") == loaded(tmp_path, "train_state") == 1


def test_runs_saved_before_manifests_still_load(tmp_path):
    save_tensors(tmp_path / "best", {"w": torch.ones(3)}, {"gen": 1})
    (tmp_path / MANIFEST).unlink()
    meta = json.loads((tmp_path / "best.json").read_text())
    del meta["generation"]
    (tmp_path / "best.json").write_text(json.dumps(meta))
    assert loaded(tmp_path, "best") == 1
    save_tensors(tmp_path / "last", {"w": torch.full((3,), 2.0)}, {"gen": 2})  # a manifest now
    assert loaded(tmp_path, "best") == 1 and loaded(tmp_path, "last") == 2


def test_the_usual_names_hold_the_committed_files(tmp_path):
    save_checkpoints(tmp_path, parts(1, ("best", "last", "train_state")))
    save_checkpoints(tmp_path, parts(2))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "best.json",
        "best.safetensors",
        MANIFEST,
        "last.json",
        "last.safetensors",
        "train_state.json",
        "train_state.safetensors",
    ]
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["generation"] == 2 and set(manifest["files"]) == {
        n for n in names if n != MANIFEST
    }
    assert json.loads((tmp_path / "best.json").read_text())["generation"] == 1
    assert json.loads((tmp_path / "last.json").read_text())["generation"] == 2
