"""A fix for Debian's torch 1.13 that the diffusers dev scripts apply before running any model.

torch.baddbmm(input, b1, b2, beta=0) must ignore `input` ("If beta is 0, then input will be
ignored, and nan and inf in it will not be propagated", torch docs), but torch 1.13's CPU kernel
returns NaN now and then for small batches (seen at 16 × 4 × 4 and 64 × 4 × 4: it propagates a
NaN of `input`, and even with a zero `input` some calls return NaN, as if it read uninitialised
memory). diffusers' classic attention (AttnProcessor, used where torch has no
scaled_dot_product_attention, i.e. before torch 2.0) calls baddbmm with beta=0 on
`torch.empty(...)`: ε then turns NaN at random. With beta=0 the result is alpha · (b1 @ b2),
which is what this computes instead (bmm, then the scale), for every caller.
"""
import torch

_baddbmm = torch.baddbmm


def _baddbmm_beta0_ignores_input(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    if beta == 0:
        product = torch.bmm(batch1, batch2)
        result = product if alpha == 1 else product * alpha
        if out is None:
            return result
        return out.copy_(result)
    if out is None:
        return _baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)
    return _baddbmm(input, batch1, batch2, beta=beta, alpha=alpha, out=out)


def apply():
    torch.baddbmm = _baddbmm_beta0_ignores_input
