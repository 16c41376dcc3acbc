"""CharLMReader (Flair's contextual string embeddings): each word's vector is the LM's output
at the space after it (forward) or before it (backward), in one pass over the sentence."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import BOS, EncoderConfig, StatefulEncoder, Vocab
from seqlab.data.vocab import SPECIALS
from seqlab_tagging.charlm import LM_ROWS, CharLMReader
from seqlab_tagging.features import CHARS, Featurizer

LM_CHARS = Vocab([*SPECIALS, " ", *"abcdefgh.T"])  # no "z": an unknown character to the LM
WORDS = ["The", "cab", "had", "egg", ".", "zag", "fee"]


def reader(backward: bool, seed: int = 0) -> tuple[CharLMReader, Featurizer]:
    torch.manual_seed(seed)
    config = EncoderConfig(len(LM_CHARS), hidden=6, layers=1, stateful=False, backward=backward)
    fz = Featurizer.build([WORDS])
    r = CharLMReader(StatefulEncoder(config), LM_CHARS.stoi[" "], LM_CHARS.bos_idx, len(fz.chars))
    r.map_chars(fz.chars, LM_CHARS)
    return r.eval(), fz


def by_hand(r: CharLMReader, words: list[str]) -> torch.Tensor:
    """Run the LM on xxbos + ' w1 w2 ... wn ' (reversed for backward) and pick positions."""
    text = "".join(" " + w for w in words) + " "
    ids = [LM_CHARS.stoi.get(c, LM_CHARS.unk_idx) for c in text]
    if r.lm.config.backward:
        ids = ids[::-1]
    out = r.lm(torch.tensor([[LM_CHARS.stoi[BOS], *ids]]))[0]
    ends, pos = [], 0
    for w in words:  # S-positions of each word's leading space and trailing space
        ends.append((pos, pos + len(w) + 1))
        pos += len(w) + 1
    t = len(text)
    picks = [t - lead if r.lm.config.backward else trail + 1 for lead, trail in ends]
    return out[picks]


# batches of more than LM_ROWS sentences too: the LM reads them in groups of similar length
sentences = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5), min_size=1, max_size=2 * LM_ROWS + 3
)


@settings(max_examples=30, deadline=None)
@given(sentences, st.booleans())
def test_batched_reading_equals_the_lm_on_the_sentence_string(batch, backward):
    r, fz = reader(backward)
    v = Vocab([*SPECIALS, *WORDS])
    width = max(len(s) for s in batch)
    x = torch.full((len(batch), width, fz.encode(["a"], v).shape[1]), 1)
    for i, s in enumerate(batch):
        x[i, : len(s)] = torch.from_numpy(fz.encode(s, v))
    words = x[..., 0] != 1
    with torch.no_grad():
        out = r(x[..., CHARS:], words, 1)
        for i, s in enumerate(batch):
            assert torch.allclose(out[i, : len(s)], by_hand(r, s), atol=1e-5)


def test_frozen_by_default_and_in_eval_mode_while_the_tagger_trains():
    r, _ = reader(backward=False)
    r.train()
    assert not r.lm.training and not any(p.requires_grad for p in r.lm.parameters())
    config = EncoderConfig(len(LM_CHARS), hidden=6, stateful=False)
    tuned = CharLMReader(StatefulEncoder(config), 8, 2, 5, trainable=True).train()
    assert tuned.lm.training and all(p.requires_grad for p in tuned.lm.parameters())


def test_a_character_the_lm_never_saw_reads_as_its_xxunk():
    r, fz = reader(backward=False)
    assert r.lm_ids[fz.chars.stoi["z"]] == LM_CHARS.unk_idx
    assert r.lm_ids[fz.chars.stoi["a"]] == LM_CHARS.stoi["a"]
