"""A plugin installed by someone else is found exactly as the built-in ones are: through
an entry point of its distribution. Here a tiny distribution is laid out on sys.path."""

import sys
import textwrap

from click.testing import CliRunner

from seqlab import registry
from seqlab.cli.main import cli

PLUGIN = """
import numpy as np
from seqlab import BOS, Corpus, Vocab

def abc():
    vocab = Vocab.build("a b c a b c".split())
    doc = vocab.encode([BOS] + "a b c".split() * 40)
    return Corpus("abc", vocab, {"train": [doc], "valid": [doc[:60]]})
"""


def test_a_third_party_corpus_is_found_listed_and_used(tmp_path, monkeypatch):
    (tmp_path / "abc_corpus.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "abc_corpus-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: abc-corpus\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[seqlab.corpora]\nabc = abc_corpus:abc\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert "abc" in registry.names("seqlab.corpora")
    listing = CliRunner().invoke(cli, ["plugins"])
    assert "abc-corpus" in listing.output and "abc_corpus:abc" in listing.output
    shown = CliRunner().invoke(cli, ["show-batch", "abc", "--bs", "2", "--bptt", "4", "--tsv"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == "0\txxbos a b c"
    sys.modules.pop("abc_corpus", None)
