"""TaggerEncoder (LMs forward + backward, own word features, BiLSTM; padding-safe) and
TagHead (softmax, CRF)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import Batch, EncoderConfig, SeqModel, StatefulEncoder, Vocab, load_model, save_model
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.features import COLUMNS, Featurizer
from seqlab_tagging.head import TagHead
from seqlab_tagging.wordrep import WordFeaturesConfig

V, PAD, BOS = 12, 1, 2
TRAIN_WORDS = ["The", "cat", "sat", "on", "12,000", "mats", "re-enter", "Tagging", "."]


def lm(layers=1, hidden=5, backward=False):
    config = EncoderConfig(V, hidden=hidden, layers=layers, stateful=False, backward=backward)
    return StatefulEncoder(config)


def encoder(layers=1, backward=True, hidden=5):
    lms = [lm(layers, hidden)] + ([lm(layers, hidden, backward=True)] if backward else [])
    return TaggerEncoder(lms, BOS, PAD).eval()


def featured(context=6, with_lm=True):
    """A tagger with its own word features (and a BiLSTM, and a forward LM over `vocab`)."""
    fz = Featurizer.build([TRAIN_WORDS])
    config = WordFeaturesConfig(
        len(fz.lower), len(fz.shapes), len(fz.suffixes), len(fz.chars), 6, 3, 4, 5, 7
    )
    lms = [lm()] if with_lm else []
    return TaggerEncoder(lms, BOS, PAD, fz, config, context, drop=0.3).eval()


def vocab():
    return Vocab(["xxunk", "xxpad", "xxbos"] + TRAIN_WORDS[: V - 3])


def padded(rows):
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), PAD)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r)
    return x, x != PAD


rows = st.lists(st.lists(st.integers(3, V - 1), min_size=1, max_size=6), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(rows, st.integers(0, 1000))
def test_each_row_is_read_as_if_alone(batch_rows, seed):
    """Padding never reaches a real token's output, in either direction."""
    torch.manual_seed(seed)
    enc = encoder()
    x, _ = padded(batch_rows)
    with torch.no_grad():
        out = enc(x)
        for i, r in enumerate(batch_rows):
            alone = enc(torch.tensor([r]))
            assert torch.allclose(out[i, : len(r)], alone[0], atol=1e-5)


def test_backward_half_reads_xxbos_then_the_sentence_reversed():
    torch.manual_seed(0)
    enc = encoder()
    words = [5, 6, 7, 8]
    x, _ = padded([words, [9, 10]])
    with torch.no_grad():
        out = enc(x)
        manual = enc.lms[1](torch.tensor([[BOS] + words[::-1]]))[0, 1:].flip(0)
        fwd = enc.lms[0](torch.tensor([[BOS] + words]))[0, 1:]
    assert out.shape == (2, 4, 10)
    assert torch.allclose(out[0, :, 5:], manual, atol=1e-6)
    assert torch.allclose(out[0, :, :5], fwd, atol=1e-6)


sentences = st.lists(
    st.lists(
        st.sampled_from(TRAIN_WORDS + ["unseen", "Élan", "xxpad", "1999"]), min_size=1, max_size=6
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None)
@given(sentences, st.integers(0, 1000))
def test_with_features_and_bilstm_each_row_is_read_as_if_alone(batch, seed):
    """The char CNN's max, the BiLSTM's backward pass and the LM never see padding."""
    torch.manual_seed(seed)
    enc, v = featured(), vocab()
    width = max(len(s) for s in batch)
    x = torch.full((len(batch), width, COLUMNS), PAD)
    for i, words in enumerate(batch):
        x[i, : len(words)] = torch.from_numpy(enc.featurizer.encode(words, v))
    with torch.no_grad():
        out = enc(x)
        for i, words in enumerate(batch):
            alone = enc(torch.from_numpy(enc.featurizer.encode(words, v))[None])
            assert torch.allclose(out[i, : len(words)], alone[0], atol=1e-5)
    assert out.shape == (len(batch), width, 12)


def test_unseen_words_still_get_their_spelling():
    enc, v = featured(with_lm=False), vocab()
    ids = enc.featurizer.encode(["Unseenly", "unseenly"], v)
    unk = enc.featurizer.lower.unk_idx
    assert ids[0, 1] == ids[1, 1] == unk  # the word itself is unknown...
    assert ids[0, 2] != ids[1, 2]  # ...but its shape (Xxxxx vs xxxx) tells them apart
    assert (ids[0, 4:12] != PAD).all() and ids[0, 12] == PAD  # 8 characters, then padding


def test_kept_feature_rows_are_the_rows_of_the_vocab_given_now():
    fz = featured(with_lm=False).featurizer
    a, b = Vocab(["xxunk", "xxpad", "cat", "The"]), Vocab(["xxunk", "xxpad", "The"])
    words = ["The", "cat", "The", "dog"]
    for v in (a, b, a):  # the rows kept for one vocab must not leak into another's
        fresh = Featurizer(fz.lower, fz.shapes, fz.suffixes, fz.chars).encode(words, v)
        got = fz.encode(words, v)
        assert (got == fresh).all() and got.shape == (4, COLUMNS)
        assert list(got[:, 0]) == [v.stoi.get(w, v.unk_idx) for w in words]
    got[0, 0] = 99  # a caller's array is its own: the kept rows are copied, not shared
    assert fz.encode(words, a)[0, 0] == a.stoi["The"]
    assert fz.encode([], a).shape == (0, COLUMNS)


def test_layer_groups_pair_directions_and_cover_every_parameter_once():
    enc = TaggerEncoder([lm(3, 4), lm(1, 4, backward=True)], BOS, PAD)
    model = SeqModel(enc, TagHead(enc, ["A", "B"], crf=True))
    groups = model.layer_groups()
    assert len(groups) == 5  # embeddings, 3 layers, head
    ids = [id(p) for g in groups for p in g]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    assert len(set(ids)) == len(ids)
    top_layer = {id(p) for p in enc.lms[0].rnns[2].parameters()} | {
        id(p) for p in enc.lms[1].rnns[0].parameters()
    }
    assert {id(p) for p in groups[3]} == top_layer  # a shallower encoder aligns at the top


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    enc = featured()
    model = SeqModel(enc, TagHead(enc, ["A", "B", "C"], crf=True)).eval()
    meta = {
        "encoder_kind": "tagger",
        "encoder": enc.to_dict(),
        "head": {"kind": "tag", "config": model.head.config()},
        "vocab": vocab().itos,
    }
    save_model(tmp_path / "best", model, meta)
    loaded, vocab_, _ = load_model(tmp_path / "best")
    assert loaded.encoder.featurizer == enc.featurizer  # predict needs only the run
    x = torch.stack([torch.from_numpy(enc.featurizer.encode(["The", "cat", "sat"], vocab()))])
    mask = torch.ones(1, 3, dtype=torch.bool)
    with torch.no_grad():
        assert torch.allclose(model(x, mask), loaded.eval()(x, mask))
    assert loaded.head.decode(loaded(x, mask), mask) == model.head.decode(model(x, mask), mask)
    assert len(vocab_) == V


def test_losses_ignore_padding():
    torch.manual_seed(0)
    enc = encoder()
    x, mask = padded([[3, 4, 5], [6]])
    y = torch.tensor([[0, 1, 2], [1, -100, -100]])
    for crf in (False, True):
        head = TagHead(enc, ["A", "B", "C"], crf=crf)
        out = torch.randn(2, 3, 3)
        noisy = out.clone()
        noisy[1, 1:] = 100.0  # pad positions
        batch = Batch(x, y, mask)
        assert torch.allclose(head.loss(out, batch), head.loss(noisy, batch))
        assert [len(r) for r in head.decode(noisy, mask)] == [3, 1]
        assert head.decode(noisy, mask)[0] == head.decode(out, mask)[0]


def test_softmax_decode_is_the_argmax():
    head = TagHead(encoder(), ["A", "B", "C"])
    out = torch.tensor([[[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]])
    assert head.decode(out, torch.ones(1, 2, dtype=torch.bool)) == [[1, 0]]
    assert head.names([1, 0]) == ["B", "A"]


def test_the_bilstm_reads_padded_rows_as_a_packed_one_would():
    """`in_context` replaced packed sequences (whose backward was quadratic in the sentence's
    length: a 10k-word sentence trained for minutes); the numbers and gradients are the same."""
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from seqlab_tagging.encoder import in_context

    torch.manual_seed(0)
    lstm = nn.LSTM(6, 5, batch_first=True, bidirectional=True)
    lengths = torch.tensor([4, 1, 3, 4])
    mask = torch.arange(4)[None] < lengths[:, None]
    h = torch.randn(4, 4, 6, requires_grad=True)
    packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
    ref = pad_packed_sequence(lstm(packed)[0], batch_first=True)[0]
    (grad_ref,) = torch.autograd.grad(ref.square().sum(), h)
    got = in_context(lstm, h, mask)
    (grad_got,) = torch.autograd.grad(got.square().sum(), h)
    assert torch.allclose(got, ref, atol=1e-6) and torch.allclose(grad_got, grad_ref, atol=1e-6)
    assert (got[~mask] == 0).all()


def test_the_character_cnn_gives_the_same_vectors_with_any_padding():
    """Only real words go through the CNN (padding cost bs x L of work); a word's vector does
    not depend on how many padded rows or positions share its batch."""
    from seqlab_tagging.wordrep import WordFeatures

    torch.manual_seed(0)
    wf = WordFeatures(WordFeaturesConfig(n_lower=10, n_shapes=5, n_suffixes=5, n_chars=9)).eval()
    chars = torch.randint(2, 9, (1, 3, 4))
    padded = torch.full((3, 7, 4), 1)
    padded[0, :3] = chars[0]
    alone, among = wf._chars(chars), wf._chars(padded)
    assert torch.allclose(alone[0], among[0, :3], atol=1e-6)
    assert (among[0, 3:] == 0).all() and (among[1:] == 0).all()


def test_a_very_long_sentence_is_batched_alone():
    from seqlab_tagging import data

    vocab = Vocab(["xxunk", "xxpad", "xxbos", "w"])
    examples = [(["w"] * 5, None) for _ in range(7)] + [(["w"] * 2000, None)]
    plan = data.batches(examples, vocab, None, bs=8).plan()
    sizes = sorted(len(b) for b in plan)
    assert sizes == [1, 7]  # bs 8 fits all rows; the budget keeps 7 short ones off the long one
    assert len(data.batches(examples[:7], vocab, None, bs=8).plan()) == 1
