"""A linear-chain CRF: sequence-level loss (forward algorithm) and Viterbi decoding.

A per-token softmax picks each tag alone; a CRF scores whole tag sequences,

    score(y) = start[y_1] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_n],

so it can learn that I-PER never follows B-LOC, or that TENS is followed by UNITS or SEP.
Loss = log Z - score(gold), Z summing exp(score) over all tag sequences (forward algorithm);
prediction = the argmax sequence (Viterbi). Both run in O(n * tags^2).

Constraints (span tag sets, seqlab_tagging.schemes.allowed): a step, a first tag or a last tag
that no valid BIO/BIOES sequence takes scores -inf, in the loss, the marginals and Viterbi
alike, so every decoded sequence is a valid set of spans and the marginals are those of valid
sequences only. They are fixed by the tag names, not learned (buffers, not saved: rebuilt from
the head's config).

Masks: True on real tokens, right-padded (real tokens first), at least one per row. A padded
step leaves the running scores unchanged, so each row ends where its mask ends.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CRF(nn.Module):
    _ok_trans: Tensor  # the constraints' buffers: True where a step, first or last tag is allowed
    _ok_start: Tensor
    _ok_end: Tensor

    def __init__(self, n_tags: int, constraints=None):
        """`constraints`: (trans, start, end) of bools (schemes.allowed), or None: any path."""
        super().__init__()
        self.n_tags = n_tags
        # trans[i, j]: score of tag j right after tag i. Small random start, as the emissions.
        self.trans = nn.Parameter(torch.empty(n_tags, n_tags).uniform_(-0.1, 0.1))
        self.start = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))
        self.end = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))
        trans, start, end = constraints or (
            [[True] * n_tags] * n_tags,
            [True] * n_tags,
            [True] * n_tags,
        )
        self.constrained = constraints is not None
        self.register_buffer("_ok_trans", torch.tensor(trans, dtype=torch.bool), persistent=False)
        self.register_buffer("_ok_start", torch.tensor(start, dtype=torch.bool), persistent=False)
        self.register_buffer("_ok_end", torch.tensor(end, dtype=torch.bool), persistent=False)

    def scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """(trans, start, end) as the algorithms use them: the learned scores, -inf where the
        constraints forbid."""
        inf = float("-inf")
        return (
            self.trans.masked_fill(~self._ok_trans, inf),
            self.start.masked_fill(~self._ok_start, inf),
            self.end.masked_fill(~self._ok_end, inf),
        )

    def score(self, emit: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Score of given tag sequences: emit (bs, L, T), tags (bs, L), mask (bs, L) -> (bs,)."""
        trans, start, end = self.scores()
        tags = tags.masked_fill(~mask, 0)  # pad labels (-100) must still index safely
        m = mask.to(emit.dtype)
        out = start[tags[:, 0]] + emit.gather(2, tags[:, :, None]).squeeze(2).mul(m).sum(1)
        # where() rather than a product: a forbidden step on padding (-inf * 0) is no step
        steps = torch.where(mask[:, 1:], trans[tags[:, :-1], tags[:, 1:]], 0.0)
        out = out + steps.sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return out + end[last]

    def log_partition(self, emit: Tensor, mask: Tensor) -> Tensor:
        """log Z per row, by the forward algorithm: (bs,)."""
        trans, start, end = self.scores()
        alpha = start + emit[:, 0]  # (bs, T): log-sum of all paths ending in each tag
        for t in range(1, emit.size(1)):
            step = torch.logsumexp(alpha[:, :, None] + trans, dim=1) + emit[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def nll(self, emit: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Negative log-likelihood of the gold sequences, per row: (bs,)."""
        return self.log_partition(emit, mask) - self.score(emit, tags, mask)

    @torch.no_grad()
    def marginals(self, emit: Tensor, mask: Tensor) -> Tensor:
        """P(tag of token t = j | sentence) for every token and tag, by forward-backward:
        (bs, L, T); rows past a row's end are meaningless."""
        bs, length, n = emit.shape
        trans, start, end = self.scores()
        alphas = [start + emit[:, 0]]
        for t in range(1, length):
            step = torch.logsumexp(alphas[-1][:, :, None] + trans, dim=1) + emit[:, t]
            alphas.append(torch.where(mask[:, t, None], step, alphas[-1]))
        # beta at a row's last real token is `end`; a padded step passes beta through
        beta = end.expand(bs, n)
        betas = [beta]
        for t in range(length - 1, 0, -1):
            step = torch.logsumexp(trans + (emit[:, t] + beta)[:, None, :], dim=2)
            beta = torch.where(mask[:, t, None], step, beta)
            betas.append(beta)
        alpha, beta = torch.stack(alphas, 1), torch.stack(betas[::-1], 1)
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)
        return torch.exp(alpha + beta - log_z[:, None, None])

    @torch.no_grad()
    def viterbi(self, emit: Tensor, mask: Tensor) -> Tensor:
        """The best tag sequence per row: (bs, L); positions past a row's end hold its last tag."""
        bs, length, _ = emit.shape
        trans, start, end = self.scores()
        best = start + emit[:, 0]  # (bs, T): best score of a path ending in each tag
        keep = torch.arange(self.n_tags, device=emit.device).expand(bs, -1)
        pointers = []
        for t in range(1, length):
            scores, back = (best[:, :, None] + trans).max(dim=1)
            best = torch.where(mask[:, t, None], scores + emit[:, t], best)
            # a padded step points each tag to itself, so backtracking walks through it
            pointers.append(torch.where(mask[:, t, None], back, keep))
        tag = (best + end).argmax(dim=1)
        path = [tag]
        for back in reversed(pointers):
            tag = back.gather(1, tag[:, None]).squeeze(1)
            path.append(tag)
        return torch.stack(path[::-1], dim=1)
