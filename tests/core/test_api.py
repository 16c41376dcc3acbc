"""The Python facade (seqlab.api) and the exported model directory (seqlab.store.modeldir).

One set of tiny models is trained for the module (a word LM and a character LM on
examples/python/text.txt, a CRF tagger stacking both, a classifier on the word LM), then
exported; the tests predict with them before and after, and feed the loader broken
directories.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import seqlab
from seqlab.cli.main import cli
from seqlab.store.errors import CheckpointError

DATA = Path(__file__).parents[2] / "examples" / "python"
SMALL_LM = {"epochs": 1, "hidden": 24, "emb_size": 16, "bs": 8, "bptt": 20, "min_freq": 1}
WORDS = "the a this film book cake song was is very quite good awful lovely cold . ,".split()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    cache = root / "cache"
    text = DATA / "text.txt"
    lm = seqlab.pretrain(text, out=root / "lm", quiet=True, cache_dir=cache, **SMALL_LM)
    char = seqlab.pretrain(
        text, out=root / "char", quiet=True, cache_dir=cache, level="char", **SMALL_LM
    )
    tagger = seqlab.finetune_tag(
        DATA / "train.conll",
        DATA / "dev.conll",
        encoders=[lm, char],
        epochs=2,
        context=16,
        crf=True,
        out=root / "tagger",
        quiet=True,
    )
    classifier = seqlab.finetune_classify(
        DATA / "train.csv", DATA / "valid.csv", encoder=lm, epochs=2, out=root / "clf", quiet=True
    )
    runs = {"lm": lm, "char": char, "tagger": tagger, "classifier": classifier}
    exported = {name: run.export(root / "models" / name) for name, run in runs.items()}
    return {"root": root, "cache": cache, "runs": runs, "models": exported}


@pytest.fixture(scope="module")
def predictors(runs):
    """(from the run, from the exported directory) for each model."""
    return {
        name: (run.load(device="cpu"), seqlab.load(runs["models"][name], device="cpu"))
        for name, run in runs["runs"].items()
    }


def test_the_facade_loads_no_ui_library():
    """seqlab.pretrain / seqlab.load are there without click, rich or matplotlib."""
    code = (
        "import sys, seqlab; seqlab.load, seqlab.pretrain, seqlab.Run; "
        "import seqlab.store.modeldir; "
        "print([m for m in ('click', 'rich', 'matplotlib') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda out: seqlab.pretrain(DATA / "text.txt", out, epoch=1), "epoch is not a setting"),
        (lambda out: seqlab.pretrain(DATA / "text.txt", out, hidden=0), "hidden must be at"),
        (lambda out: seqlab.pretrain(DATA / "text.txt", out, min_freq="2"), "min_freq must be a"),
        (
            lambda out: seqlab.finetune_tag(DATA / "train.conll", out=out, crf=1),
            "crf must be True or False, got 1",
        ),
        (
            lambda out: seqlab.finetune_classify(DATA / "train.csv", out=out, lr=-1),
            "lr must be positive, got -1",
        ),
        (
            lambda out: seqlab.finetune_classify(DATA / "train.csv", out=out, epochs="2"),
            "epochs must be a whole number",
        ),
    ],
)
def test_a_bad_setting_is_named_before_any_work(tmp_path, call, message):
    out = tmp_path / "run"
    with pytest.raises(seqlab.SettingError, match=message):
        call(out)
    assert not out.exists()


def test_defaults_are_the_cli_defaults():
    from seqlab.api import make_settings
    from seqlab_classify.task import ClassifySettings
    from seqlab_lm.settings import PretrainSettings
    from seqlab_tagging.task import TagSettings

    assert make_settings(TagSettings, {}, "t") == TagSettings()
    assert make_settings(ClassifySettings, {"epochs": 3}, "c").lr == ClassifySettings().lr
    assert make_settings(PretrainSettings, {}, "p") == PretrainSettings()


# -- runs and predictions ----------------------------------------------------------------------


def test_run_gives_its_epoch_table_and_scores(runs):
    tagger = runs["runs"]["tagger"]
    assert [row["epoch"] for row in tagger.metrics] == [0, 1]
    assert {"train_loss", "valid_loss", "accuracy", "time"} <= set(tagger.metrics[0])
    assert tagger.scores["split"] == "valid" and "accuracy" in tagger.scores["metrics"]
    assert runs["runs"]["lm"].scores == {} and len(runs["runs"]["lm"].metrics) == 1


def test_predictions_are_plain_python(predictors):
    clf, tag, lm = (predictors[k][0] for k in ("classifier", "tagger", "lm"))
    one = clf.predict("the film was lovely .")
    assert set(one) == {"label", "probs"} and one["label"] in ("neg", "pos")
    assert sum(one["probs"].values()) == pytest.approx(1, abs=1e-5)
    assert clf.predict([]) == []
    tagged = tag.predict(["the cake was very good .", ["a", "film"], ""])
    assert [len(t["tags"]) for t in tagged] == [6, 2, 0]
    assert all(set(t["tags"]) <= set(tag.labels) for t in tagged)
    assert all(0 < p <= 1 for t in tagged for p in t["probs"])
    nxt = lm.predict(["the film was"], top_k=4)[0]
    assert nxt["tokens"] == ["the", "film", "was"] and len(nxt["next"]) == 4
    probs = list(nxt["next"].values())
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    with pytest.raises(TypeError, match="cannot generate"):
        clf.generate("the")


def test_batching_does_not_change_predictions(predictors):
    """Padding changes float sums in their last bits only: the same answers, probabilities
    equal to 1e-5."""
    texts = ["the film was lovely .", "a cake .", "this song is very quite cold , the end ."]
    for name, answer, probs in (
        ("classifier", "label", "probs"),
        ("tagger", "tags", "probs"),
        ("lm", "tokens", "next"),
    ):
        p = predictors[name][0]
        one_by_one = [p.predict([t], bs=1)[0] for t in texts]
        for a, b in zip(one_by_one, p.predict(texts, bs=2), strict=True):
            assert a[answer] == b[answer]
            pa, pb = a[probs], b[probs]
            if isinstance(pa, dict):
                pa, pb = [pa[k] for k in sorted(pa)], [pb.get(k, 0) for k in sorted(pa)]
            assert pa == pytest.approx(pb, abs=1e-5)


def test_generate_is_the_commands(runs, predictors):
    lm = predictors["lm"][0]
    text = lm.generate("the film", n=6)
    result = CliRunner().invoke(
        cli, ["generate", str(runs["runs"]["lm"].path), "--prompt", "the film", "--n", "6",
              "--greedy", "--checkpoint", "best"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == text
    exported = ["generate", str(runs["models"]["lm"]), "--prompt", "the film", "--n", "6"]
    result = CliRunner().invoke(cli, [*exported, "--greedy"])
    assert result.exit_code == 0 and result.stdout.strip() == text, result.output
    assert predictors["char"][0].generate("the ", n=5).startswith("the ")


def test_crf_tag_probabilities_are_marginals(predictors):
    tag = predictors["tagger"][0]
    words = ["the", "film", "was", "good", "."]
    model = tag.model
    featurizer = model.encoder.featurizer
    x = torch.tensor(featurizer.encode(words, tag.vocab).astype("int64"))[None]
    mask = torch.ones(1, len(words), dtype=torch.bool)
    with torch.no_grad():
        emit = model(x, mask)
    marginals = model.head.crf.marginals(emit, mask)[0]
    assert torch.allclose(marginals.sum(-1), torch.ones(len(words)), atol=1e-5)
    got = tag.predict([words])[0]
    for t, (name, p) in enumerate(zip(got["tags"], got["probs"], strict=True)):
        assert p == pytest.approx(float(marginals[t, tag.labels.index(name)]), abs=1e-6)


# -- the exported directory --------------------------------------------------------------------

texts = st.lists(
    st.one_of(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    ),
    min_size=1,
    max_size=4,
).filter(lambda ts: all(t.strip() for t in ts))


@settings(max_examples=20, deadline=None)
@given(texts=texts)
def test_predictions_are_identical_after_export(predictors, texts):
    for name, (before, after) in predictors.items():
        if name == "char":
            assert before.predict(texts, top_k=3) == after.predict(texts, top_k=3)
        else:
            assert before.predict(texts) == after.predict(texts), name


def test_the_directory_holds_what_others_read(runs):
    from safetensors import safe_open
    from tokenizers import Tokenizer

    clf = runs["models"]["classifier"]
    assert {p.name for p in clf.iterdir()} == {
        "config.json", "model.safetensors", "tokenizer.json", "README.md"
    }  # fmt: skip
    config = json.loads((clf / "config.json").read_text())
    assert config["seqlab_format"] == 1 and config["id2label"] == {"0": "neg", "1": "pos"}
    with safe_open(str(clf / "model.safetensors"), "pt") as f:
        meta = f.metadata()
        assert meta["format"] == "pt" and meta["seqlab_format"] == "1" and meta["seqlab_version"]
        # the LM under the n-gram channel (docs/python.md: tensor names)
        assert {"encoder.inner.embedding.weight", "encoder.bag.weight"} <= set(f.keys())
    tok = Tokenizer.from_file(str(clf / "tokenizer.json"))
    vocab = seqlab.load(clf, device="cpu").vocab
    ids = [vocab.stoi[w] for w in ("the", "film", "xxunk", ".")]
    assert tok.encode("the film zebra.").ids == ids  # words, punctuation, unknown: as seqlab
    card = (clf / "README.md").read_text()
    assert "## Scores" in card and "macro_f1" in card and "Licence" in card
    char = runs["models"]["char"]
    assert (char / "vocab.json").is_file() and not (char / "tokenizer.json").exists()
    lm_config = json.loads((runs["models"]["lm"] / "config.json").read_text())
    assert lm_config["tied_weights"] == {"head.decoder.weight": "encoder.embedding.weight"}


def test_predict_from_a_copied_directory_with_no_run_and_no_cache(runs, tmp_path):
    root = tmp_path / "work"
    shutil.copytree(runs["root"] / "clf", root / "run")
    result = CliRunner().invoke(cli, ["export-model", str(root / "run"), str(root / "model")])
    assert result.exit_code == 0, result.output
    args = ["--text", "the film was lovely .", "--text", "a room felt so cold .", "--json"]
    before = CliRunner().invoke(cli, ["predict", str(root / "run"), *args])
    elsewhere = tmp_path / "elsewhere" / "model"
    shutil.copytree(root / "model", elsewhere)
    shutil.rmtree(root)
    hidden = runs["cache"].with_name("cache-away")
    runs["cache"].rename(hidden)  # no token cache anywhere (put back for the other tests)
    try:
        after = CliRunner().invoke(cli, ["predict", str(elsewhere), *args])
        loaded = seqlab.load(elsewhere).predict(["the film was lovely ."])
    finally:
        hidden.rename(runs["cache"])
    assert before.exit_code == 0 and after.exit_code == 0, after.output
    assert after.stdout == before.stdout
    assert loaded[0]["label"] == json.loads(before.stdout.splitlines()[0])["label"]


def test_export_refuses_a_directory_of_other_files_and_replaces_an_export(runs, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["export-model", str(runs["runs"]["lm"].path), str(other)])
    assert result.exit_code == 2 and "not empty and not an exported seqlab model" in result.output
    assert {p.name for p in other.iterdir()} == {"todo.txt"}
    again = runs["runs"]["char"].export(tmp_path / "model")
    with pytest.raises(ValueError, match="holds an exported model; replace it with overwrite"):
        runs["runs"]["lm"].export(again)  # never silently over another model's export
    runs["runs"]["lm"].export(again, overwrite=True)  # a word LM over a char LM: no vocab.json
    assert not (again / "vocab.json").exists() and (again / "tokenizer.json").is_file()


class Evil:
    def __reduce__(self):
        return (Path.touch, (Path("PWNED"),))


def _break(kind: str, model: Path, other: Path) -> None:
    config = json.loads((model / "config.json").read_text())
    if kind == "no config":
        (model / "config.json").unlink()
    elif kind == "not seqlab":
        (model / "config.json").write_text('{"model_type": "bert"}')
    elif kind == "future format":
        (model / "config.json").write_text(json.dumps({**config, "seqlab_format": 99}))
    elif kind == "pickle weights":
        (model / "model.safetensors").write_bytes(pickle.dumps({"w": Evil()}))
    elif kind == "truncated weights":
        data = (model / "model.safetensors").read_bytes()
        (model / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif kind == "no weights":
        (model / "model.safetensors").unlink()
    elif kind == "another model's weights":
        shutil.copy(other / "model.safetensors", model / "model.safetensors")
    elif kind == "bad tokenizer":
        (model / "tokenizer.json").write_text('{"model": {"vocab": {"a": 5}}}')
    elif kind == "no tokenizer":
        (model / "tokenizer.json").unlink()
    elif kind == "bad tied weights":
        config["tied_weights"] = {"head.decoder.weight": "nothing"}
        (model / "config.json").write_text(json.dumps(config))


BREAKS = [
    ("no config", "config.json: no such file"),
    ("not seqlab", "not an exported seqlab model"),
    ("future format", "seqlab_format 99"),
    ("pickle weights", "model.safetensors"),
    ("truncated weights", "model.safetensors"),
    ("no weights", "model.safetensors: no such file"),
    ("another model's weights", "config.json: .*model.safetensors"),
    ("bad tokenizer", "tokenizer.json: not a vocab"),
    ("no tokenizer", "tokenizer.json: no such file"),
    ("bad tied weights", "tied_weights"),
]


@pytest.mark.parametrize("kind, message", BREAKS)
def test_a_malformed_directory_is_refused_in_one_line(runs, tmp_path, monkeypatch, kind, message):
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model"
    shutil.copytree(runs["models"]["lm"], model)
    _break(kind, model, runs["models"]["classifier"])
    with pytest.raises(CheckpointError, match=message) as e:
        seqlab.load(model)
    assert "\n" not in str(e.value)
    result = CliRunner().invoke(cli, ["predict", str(model), "--text", "the film"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "PWNED").exists()  # no code from the files ever ran


def test_an_exported_lm_is_an_encoder_to_fine_tune(runs, tmp_path):
    """A model directory is as good as the run it came from: same vocab, same weights."""
    from seqlab.tasks.transfer import load_pretrained

    from_run = load_pretrained(runs["runs"]["lm"].path)
    from_dir = load_pretrained(runs["models"]["lm"])
    assert from_dir.vocab == from_run.vocab and from_dir.config == from_run.config
    assert all(torch.equal(from_dir.tensors[k], v) for k, v in from_run.tensors.items())
    tagger = seqlab.finetune_tag(
        DATA / "train.conll",
        DATA / "dev.conll",
        encoders=[runs["models"]["lm"]],
        epochs=1,
        context=8,
        out=tmp_path / "tagger",
        quiet=True,
    )
    assert len(tagger.load().predict(["the film was good ."])[0]["tags"]) == 5


def test_a_run_directory_in_use_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("epoch\n0\n")
    (out / "notes.txt").write_text("mine")
    args = (DATA / "train.csv", DATA / "valid.csv")
    with pytest.raises(ValueError, match="is not empty: pass overwrite=True"):
        seqlab.finetune_classify(*args, from_scratch=True, out=out, epochs=1, quiet=True)
    with pytest.raises(ValueError, match="is not empty: pass overwrite=True"):
        seqlab.pretrain(DATA / "text.txt", out=out, quiet=True)
    assert {p.name for p in out.iterdir()} == {"metrics.csv", "notes.txt"}
    run = seqlab.finetune_classify(
        *args, from_scratch=True, out=out, epochs=1, hidden=8, emb_size=8, quiet=True,
        overwrite=True,
    )  # fmt: skip
    assert len(run.metrics) == 1 and (out / "notes.txt").read_text() == "mine"
    assert not (out / "run.lock").exists()  # held while training only
