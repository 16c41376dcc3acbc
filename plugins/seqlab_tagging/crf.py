"""A linear-chain CRF: sequence-level loss (forward algorithm) and Viterbi decoding.

A per-token softmax picks each tag alone; a CRF scores whole tag sequences,

    score(y) = start[y_1] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_n],

so it can learn that I-PER never follows B-LOC, or that TENS is followed by UNITS or SEP.
Loss = log Z - score(gold), Z summing exp(score) over all tag sequences (forward algorithm);
prediction = the argmax sequence (Viterbi). Both run in O(n * tags^2).

Masks: True on real tokens, right-padded (real tokens first), at least one per row. A padded
step leaves the running scores unchanged, so each row ends where its mask ends.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CRF(nn.Module):
    def __init__(self, n_tags: int):
        super().__init__()
        self.n_tags = n_tags
        # trans[i, j]: score of tag j right after tag i. Small random start, as the emissions.
        self.trans = nn.Parameter(torch.empty(n_tags, n_tags).uniform_(-0.1, 0.1))
        self.start = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))
        self.end = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))

    def score(self, emit: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Score of given tag sequences: emit (bs, L, T), tags (bs, L), mask (bs, L) -> (bs,)."""
        tags = tags.masked_fill(~mask, 0)  # pad labels (-100) must still index safely
        m = mask.to(emit.dtype)
        out = self.start[tags[:, 0]] + emit.gather(2, tags[:, :, None]).squeeze(2).mul(m).sum(1)
        out = out + (self.trans[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return out + self.end[last]

    def log_partition(self, emit: Tensor, mask: Tensor) -> Tensor:
        """log Z per row, by the forward algorithm: (bs,)."""
        alpha = self.start + emit[:, 0]  # (bs, T): log-sum of all paths ending in each tag
        for t in range(1, emit.size(1)):
            step = torch.logsumexp(alpha[:, :, None] + self.trans, dim=1) + emit[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def nll(self, emit: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Negative log-likelihood of the gold sequences, per row: (bs,)."""
        return self.log_partition(emit, mask) - self.score(emit, tags, mask)

    @torch.no_grad()
    def marginals(self, emit: Tensor, mask: Tensor) -> Tensor:
        """P(tag of token t = j | sentence) for every token and tag, by forward-backward:
        (bs, L, T); rows past a row's end are meaningless."""
        bs, length, n = emit.shape
        alphas = [self.start + emit[:, 0]]
        for t in range(1, length):
            step = torch.logsumexp(alphas[-1][:, :, None] + self.trans, dim=1) + emit[:, t]
            alphas.append(torch.where(mask[:, t, None], step, alphas[-1]))
        # beta at a row's last real token is `end`; a padded step passes beta through
        beta = self.end.expand(bs, n)
        betas = [beta]
        for t in range(length - 1, 0, -1):
            step = torch.logsumexp(self.trans + (emit[:, t] + beta)[:, None, :], dim=2)
            beta = torch.where(mask[:, t, None], step, beta)
            betas.append(beta)
        alpha, beta = torch.stack(alphas, 1), torch.stack(betas[::-1], 1)
        log_z = torch.logsumexp(alphas[-1] + self.end, dim=1)
        return torch.exp(alpha + beta - log_z[:, None, None])

    @torch.no_grad()
    def viterbi(self, emit: Tensor, mask: Tensor) -> Tensor:
        """The best tag sequence per row: (bs, L); positions past a row's end hold its last tag."""
        bs, length, _ = emit.shape
        best = self.start + emit[:, 0]  # (bs, T): best score of a path ending in each tag
        keep = torch.arange(self.n_tags, device=emit.device).expand(bs, -1)
        pointers = []
        for t in range(1, length):
            scores, back = (best[:, :, None] + self.trans).max(dim=1)
            best = torch.where(mask[:, t, None], scores + emit[:, t], best)
            # a padded step points each tag to itself, so backtracking walks through it
            pointers.append(torch.where(mask[:, t, None], back, keep))
        tag = (best + self.end).argmax(dim=1)
        path = [tag]
        for back in reversed(pointers):
            tag = back.gather(1, tag[:, None]).squeeze(1)
            path.append(tag)
        return torch.stack(path[::-1], dim=1)
