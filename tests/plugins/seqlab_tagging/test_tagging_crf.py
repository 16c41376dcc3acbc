"""The CRF against brute force: enumerate every tag sequence of tiny inputs."""

import itertools

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab_tagging.crf import CRF


def enumerated_marginals(scores: dict, log_z, n: int, n_tags: int):
    """Each position's tag probabilities from the score of every sequence (enumerated)."""
    want = torch.zeros(n, n_tags)
    for seq, score in scores.items():
        for t, y in enumerate(seq):
            want[t, y] += torch.exp(torch.tensor(score) - log_z)
    return want


@torch.no_grad()
def brute_scores(crf, emit, length):
    """Score of every tag sequence of one row's first `length` tokens."""
    out = {}
    for seq in itertools.product(range(crf.n_tags), repeat=length):
        s = crf.start[seq[0]] + crf.end[seq[-1]]
        s = s + sum(emit[t, y] for t, y in enumerate(seq))
        s = s + sum(crf.trans[a, b] for a, b in itertools.pairwise(seq))
        out[seq] = float(s)
    return out


@st.composite
def crf_inputs(draw):
    n_tags = draw(st.integers(1, 3))
    bs = draw(st.integers(1, 3))
    width = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, width), min_size=bs, max_size=bs))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    crf = CRF(n_tags)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 2)
    emit = torch.randn(bs, width, n_tags, generator=g) * 2
    mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    tags = torch.randint(0, n_tags, (bs, width), generator=g).masked_fill(~mask, -100)
    return crf, emit, mask, tags, lengths


@settings(max_examples=60, deadline=None)
@given(crf_inputs())
def test_nll_matches_enumeration(inputs):
    crf, emit, mask, tags, lengths = inputs
    nll = crf.nll(emit, tags, mask).detach()
    for row, n in enumerate(lengths):
        scores = brute_scores(crf, emit[row], n)
        log_z = torch.logsumexp(torch.tensor(list(scores.values())), 0)
        gold = tuple(tags[row, :n].tolist())
        assert abs(float(nll[row]) - float(log_z - scores[gold])) < 1e-4
        assert float(nll[row]) >= -1e-5  # a probability is at most 1


@settings(max_examples=60, deadline=None)
@given(crf_inputs())
def test_viterbi_is_the_best_sequence(inputs):
    crf, emit, mask, _, lengths = inputs
    paths = crf.viterbi(emit, mask)
    for row, n in enumerate(lengths):
        scores = brute_scores(crf, emit[row], n)
        found = tuple(paths[row, :n].tolist())
        assert abs(scores[found] - max(scores.values())) < 1e-4


@settings(max_examples=30, deadline=None)
@given(crf_inputs())
def test_padding_does_not_change_a_row(inputs):
    """A row scored alone at its own width gives the same loss and path as inside a batch."""
    crf, emit, mask, tags, lengths = inputs
    nll, paths = crf.nll(emit, tags, mask).detach(), crf.viterbi(emit, mask)
    for row, n in enumerate(lengths):
        one = (emit[row : row + 1, :n], tags[row : row + 1, :n], mask[row : row + 1, :n])
        assert abs(float(crf.nll(*one)[0].detach()) - float(nll[row])) < 1e-4
        assert crf.viterbi(one[0], one[2])[0].tolist() == paths[row, :n].tolist()


@settings(max_examples=60, deadline=None)
@given(crf_inputs())
def test_marginals_match_enumeration(inputs):
    """P(tag at t = j): the sum of the probabilities of every sequence with j at t, for each
    row of a padded batch (what a tagger reports as the probability of a CRF's tag)."""
    crf, emit, mask, _, lengths = inputs
    marginals = crf.marginals(emit, mask)
    for row, n in enumerate(lengths):
        scores = brute_scores(crf, emit[row], n)
        log_z = torch.logsumexp(torch.tensor(list(scores.values())), 0)
        want = enumerated_marginals(scores, log_z, n, crf.n_tags)
        assert torch.allclose(marginals[row, :n], want, atol=1e-4)


def test_training_learns_a_transition_rule():
    """Tag 1 always follows tag 0: with uninformative emissions only transitions can learn it."""
    torch.manual_seed(0)
    crf = CRF(2)
    opt = torch.optim.Adam(crf.parameters(), lr=0.1)
    tags = torch.tensor([[0, 1, 0, 1, 0, 1]])
    emit = torch.zeros(1, 6, 2)
    mask = torch.ones(1, 6, dtype=torch.bool)
    for _ in range(100):
        opt.zero_grad()
        crf.nll(emit, tags, mask).sum().backward()
        opt.step()
    assert crf.viterbi(emit, mask).tolist() == tags.tolist()


# -- constrained to valid BIO / BIOES sequences ------------------------------------------------

from seqlab_tagging import schemes  # noqa: E402


@st.composite
def constrained_inputs(draw):
    scheme = draw(st.sampled_from([schemes.BIO, schemes.BIOES]))
    types = draw(st.sampled_from([["PER"], ["PER", "LOC"]]))
    tags = schemes.tag_set(types, scheme)
    bs = draw(st.integers(1, 3))
    width = draw(st.integers(1, 4 if len(tags) <= 5 else 3))
    lengths = draw(st.lists(st.integers(1, width), min_size=bs, max_size=bs))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    crf = CRF(len(tags), schemes.allowed(tags, scheme))
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 3)
    emit = torch.randn(bs, width, len(tags), generator=g) * 5
    mask = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    return crf, emit, mask, lengths, tags, scheme


def valid_scores(crf, emit, n, tags, scheme):
    return {
        seq: s
        for seq, s in brute_scores(crf, emit, n).items()
        if schemes.is_valid([tags[i] for i in seq], scheme)
    }


@settings(max_examples=150, deadline=None)
@given(constrained_inputs())
def test_constrained_viterbi_is_valid_and_the_best_valid_sequence(inputs):
    """Whatever the scores, every decoded sequence is valid BIO/BIOES, and the best of them."""
    crf, emit, mask, lengths, tags, scheme = inputs
    paths = crf.viterbi(emit, mask)
    for row, n in enumerate(lengths):
        found = tuple(paths[row, :n].tolist())
        assert schemes.is_valid([tags[i] for i in found], scheme), [tags[i] for i in found]
        scores = valid_scores(crf, emit[row], n, tags, scheme)
        assert abs(scores[found] - max(scores.values())) < 1e-3


@settings(max_examples=60, deadline=None)
@given(constrained_inputs())
def test_constrained_nll_and_marginals_are_over_valid_sequences(inputs):
    crf, emit, mask, lengths, tags, scheme = inputs
    gold = crf.viterbi(emit, mask)  # a valid sequence
    nll = crf.nll(emit, gold, mask).detach()
    marginals = crf.marginals(emit, mask)
    for row, n in enumerate(lengths):
        scores = valid_scores(crf, emit[row], n, tags, scheme)
        log_z = torch.logsumexp(torch.tensor(list(scores.values())), 0)
        want_nll = float(log_z) - scores[tuple(gold[row, :n].tolist())]
        assert abs(float(nll[row]) - want_nll) < 1e-3
        want = enumerated_marginals(scores, log_z, n, crf.n_tags)
        assert torch.allclose(marginals[row, :n], want, atol=1e-4)


def test_constrained_training_has_finite_gradients():
    tags = schemes.tag_set(["PER"], schemes.BIOES)
    crf = CRF(len(tags), schemes.allowed(tags, schemes.BIOES))
    emit = torch.randn(2, 4, len(tags), requires_grad=True)
    gold = torch.tensor([[1, 2, 3, 0], [4, 0, -100, -100]])  # B I E O ; S O
    mask = gold != -100
    crf.nll(emit, gold, mask).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in crf.parameters())
    assert torch.isfinite(emit.grad).all()
