"""seqlab predict: the core's side (request, input decoding, dispatch by head kind)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab.store.errors import CheckpointError
from seqlab.tasks.predict import decode, make_request, predictor_for


def fake_run(tmp_path, kind):
    """A run whose best.json has the fields predict checks before it dispatches."""
    meta = {"head": {"kind": kind, "config": {}}, "encoder": {}, "vocab": ["xxunk", "a"]}
    (tmp_path / "best.json").write_text(json.dumps(meta), encoding="utf-8")
    return tmp_path


def test_request_reads_texts_and_files(tmp_path):
    run = fake_run(tmp_path, "whatever")
    req = make_request(run, texts=["a", "b"])
    assert req.stem == run / "best" and req.meta["head"]["kind"] == "whatever"
    assert list(req.lines()) == [(1, "a"), (2, "b")] and req.source == "--text"
    f = tmp_path / "in.txt"
    f.write_bytes(b"\xef\xbb\xbfone\r\ntwo\n")
    assert list(make_request(run, input=f).lines()) == [(1, "one"), (2, "two")]


def test_undecodable_input_names_source_and_line():
    with pytest.raises(ValueError, match=r"in.txt, line 3: bytes that are not UTF-8"):
        decode(b"a\nb\n\xff", "in.txt")


def test_dispatch_by_head_kind(tmp_path):
    run = fake_run(tmp_path, "no-such-kind")
    req = make_request(run, texts=["a"])
    with pytest.raises(ValueError, match="a 'no-such-kind' head cannot predict here"):
        predictor_for(req.meta, req.stem)
    (tmp_path / "best.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CheckpointError, match="missing field 'head'"):
        predictor_for({}, req.stem)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", "a", "-"], "not both"),
        ([], "nothing to predict"),
        (["missing.txt"], "missing.txt: no such file"),
        (["--text", "a", "--bs", "0"], "Invalid value for '--bs': 0 is not in the range x>=1"),
        (["--text", "a"], "a 'no-such-kind' head cannot predict here"),
    ],
)
def test_cli_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    run = fake_run(tmp_path / "run", "no-such-kind")
    result = CliRunner().invoke(cli, ["predict", str(run), *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output  # one line, no usage


def test_several_runs_need_one_head_kind_and_a_predictor_that_averages(tmp_path):
    from seqlab.tasks.predict import predict, with_others

    (tmp_path / "tag").mkdir()
    (tmp_path / "clf").mkdir()
    tag, clf = fake_run(tmp_path / "tag", "tag"), fake_run(tmp_path / "clf", "classify")
    with pytest.raises(ValueError, match="a run with a 'classify' head; .* has a 'tag' one"):
        with_others(make_request(tag, texts=["a"]), [clf])
    (tmp_path / "tag2").mkdir()
    request = with_others(make_request(tag, texts=["a"]), [fake_run(tmp_path / "tag2", "tag")])
    with pytest.raises(ValueError, match="'tag' head predict one at a time"):
        predict(request)


def test_entities_only_from_a_predictor_that_finds_them(tmp_path):
    """--entities reaches only a predictor marked `entities = True` (the tagger's)."""
    from seqlab.tasks.predict import predict

    (tmp_path / "clf").mkdir()
    request = make_request(fake_run(tmp_path / "clf", "classify"), texts=["a"], entities=True)
    with pytest.raises(ValueError, match="--entities: .* is a 'classify' model, which finds no"):
        predict(request)
    assert getattr(predictor_for({"head": {"kind": "tag"}}, tmp_path), "entities", False)
