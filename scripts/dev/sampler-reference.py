#!/usr/bin/env python3
"""
Independent reference numbers for @levelskip/samplers (packages/samplers/test).

Written from the papers, not from the TypeScript code, in float64 numpy:

- DDPM ancestral step: Ho et al. 2020, eq. 11 / Algorithm 2, with the α's of a jump t -> s
  (α̂ = ᾱ_t / ᾱ_s, β̂ = 1 - α̂) and σ² = β̃ = (1 - ᾱ_s)/(1 - ᾱ_t) β̂ ('fixed_small') or β̂ ('fixed_large').
- DDIM step: Song, Meng & Ermon 2021, eq. 12 with σ_t(η) of eq. 16; ᾱ_prev = 1 after the last step.
- DPM-Solver++(2M): Lu et al. 2022, "DPM-Solver++", Algorithm 2 (r_i = h_{i-1}/h_i,
  D_i = (1 + 1/(2 r_i)) x_θ(i-1) - 1/(2 r_i) x_θ(i-2)), first order at the first and the last step.
- Annealed Langevin dynamics: Song & Ermon 2019, Algorithm 1, in the variance-exploding variable
  x̃ = x / √ᾱ (σ = √((1-ᾱ)/ᾱ), score = -ε̂/σ).
- Timestep lists: diffusers' set_timesteps formulas (DDIMScheduler and DPMSolverMultistepScheduler).

It prints (1) golden single steps on fixed inputs and (2) for data N(μ, s²) per coordinate, whose
optimal ε-predictor is ε̂(x_t) = √(1-ᾱ)(x_t - √ᾱ μ)/(ᾱ s² + 1 - ᾱ), the exact mean and standard
deviation of each sampler's output (every update is affine in x and the noises, so the output is
Gaussian; we propagate its coefficients exactly, discretisation error included).

Run: /usr/bin/python3 scripts/dev/sampler-reference.py
"""
import json
import math

import numpy as np

T = 1000
BETAS = np.linspace(1e-4, 0.02, T, dtype=np.float64)
ALPHAS_CUMPROD = np.cumprod(1.0 - BETAS)


def abar(t):
    """ᾱ_t, with ᾱ = 1 for t < 0 (the end of the chain, diffusers' set_alpha_to_one / `one`)."""
    return 1.0 if t < 0 else float(ALPHAS_CUMPROD[t])


# ---- timestep lists (diffusers set_timesteps) -------------------------------------------------

def ddim_timesteps(n, spacing, offset=0):
    if spacing == 'linspace':
        return np.linspace(0, T - 1, n).round()[::-1].astype(np.int64).tolist()
    if spacing == 'leading':
        return ((np.arange(0, n) * (T // n)).round()[::-1] + offset).astype(np.int64).tolist()
    if spacing == 'trailing':
        return (np.round(np.arange(T, 0, -T / n)) - 1).astype(np.int64).tolist()
    raise ValueError(spacing)


def dpm_timesteps(n, spacing, offset=0):
    if spacing == 'linspace':
        return np.linspace(0, T - 1, n + 1).round()[::-1][:-1].astype(np.int64).tolist()
    if spacing == 'leading':
        return ((np.arange(0, n + 1) * (T // (n + 1))).round()[::-1][:-1] + offset).astype(np.int64).tolist()
    if spacing == 'trailing':
        return (np.arange(T, 0, -T / n).round() - 1).astype(np.int64).tolist()
    raise ValueError(spacing)


# ---- samplers, written over any type with +, -, * scalar -----------------------------------

def ddpm_step(x, eps, t, s, variance_type, z):
    """Ho et al. eq. 11 for the jump t -> s: x_s = (x - β̂/√(1-ᾱ_t) ε)/√α̂ + σ z."""
    a_hat = abar(t) / abar(s)
    b_hat = 1.0 - a_hat
    mean = (x - eps * (b_hat / math.sqrt(1.0 - abar(t)))) * (1.0 / math.sqrt(a_hat))
    if t == 0:  # Algorithm 2: z = 0 at the last step (diffusers: no noise at t = 0)
        return mean
    var = (1.0 - abar(s)) / (1.0 - abar(t)) * b_hat if variance_type == 'fixed_small' else b_hat
    var = max(var, 1e-20)
    return mean + z() * math.sqrt(var)


def ddim_step(x, eps, t, s, eta, z):
    """DDIM eq. 12: x_s = √ᾱ_s x̂0 + √(1-ᾱ_s-σ²) ε + σ z, σ from eq. 16."""
    at, as_ = abar(t), abar(s)
    x0 = (x - eps * math.sqrt(1.0 - at)) * (1.0 / math.sqrt(at))
    sigma = eta * math.sqrt((1.0 - as_) / (1.0 - at)) * math.sqrt(1.0 - at / as_)
    out = x0 * math.sqrt(as_) + eps * math.sqrt(1.0 - as_ - sigma ** 2)
    if sigma > 0:
        out = out + z() * sigma
    return out


def vp(t):
    """(α_t, σ_t, λ_t) of the VP SDE at discrete t: α = √ᾱ, σ = √(1-ᾱ), λ = log(α/σ); t < 0 is σ = 0."""
    if t < 0:
        return 1.0, 0.0, math.inf
    a = math.sqrt(abar(t))
    s = math.sqrt(1.0 - abar(t))
    return a, s, math.log(a) - math.log(s)


def dpmpp_2m(x, ts, eps_fn, lower_order_final=True):
    """DPM-Solver++(2M), Algorithm 2 of Lu et al. 2022; the list ts ends with the σ = 0 target (-1)."""
    prev_x0 = None
    prev_h = None
    n = len(ts) - 1
    for i in range(n):
        s, t = ts[i], ts[i + 1]
        a_s, s_s, l_s = vp(s)
        a_t, s_t, l_t = vp(t)
        x0 = (x - eps_fn(x, s) * s_s) * (1.0 / a_s)
        h = l_t - l_s
        first = prev_x0 is None or (i == n - 1 and (lower_order_final or t < 0))
        if t < 0:  # σ_t = 0: e^{-h} = 0 and σ_t/σ_s = 0, so the first-order step returns x_θ
            x_new = x0 * 1.0
        elif first:
            x_new = x * (s_t / s_s) - x0 * (a_t * math.expm1(-h))
        else:
            r = prev_h / h
            d = x0 * (1.0 + 1.0 / (2.0 * r)) - prev_x0 * (1.0 / (2.0 * r))
            x_new = x * (s_t / s_s) - d * (a_t * math.expm1(-h))
        prev_x0, prev_h, x = x0, h, x_new
    return x


def langevin(x_tilde, levels, steps_per_level, step_size, eps_fn, z):
    """Song & Ermon 2019 Algorithm 1 in x̃ = x/√ᾱ: α_i = ε σ_i²/σ_L², x̃ += α_i/2 · s + √α_i z, s = -ε̂/σ_i."""
    sig = [math.sqrt((1.0 - abar(t)) / abar(t)) for t in levels]
    for t, sigma in zip(levels, sig):
        alpha = step_size * sigma ** 2 / sig[-1] ** 2
        for _ in range(steps_per_level):
            eps = eps_fn(x_tilde * math.sqrt(abar(t)), t)
            score = eps * (-1.0 / sigma)
            x_tilde = x_tilde + score * (alpha / 2.0) + z() * math.sqrt(alpha)
    return x_tilde


# ---- golden single steps -------------------------------------------------------------------

def golden_steps():
    x = np.array([0.3, -1.2, 0.75, 2.0])
    eps = np.array([0.1, -0.5, 0.9, -1.3])
    eps2 = np.array([-0.4, 0.25, 0.6, 1.1])
    z = np.array([0.5, -1.0, 1.5, 0.2])
    out = {}
    # DDIM, 10 steps, leading: step index 3 is t = 600 -> 500.
    out['ddim eta=0 600->500'] = ddim_step(x, eps, 600, 500, 0.0, lambda: z)
    out['ddim eta=1 600->500'] = ddim_step(x, eps, 600, 500, 1.0, lambda: z)
    out['ddim eta=0 0->final'] = ddim_step(x, eps, 0, -1, 0.0, lambda: z)
    out['ddpm fixed_small 600->500'] = ddpm_step(x, eps, 600, 500, 'fixed_small', lambda: z)
    out['ddpm fixed_large 600->500'] = ddpm_step(x, eps, 600, 500, 'fixed_large', lambda: z)
    out['ddpm fixed_small 999->998'] = ddpm_step(x, eps, 999, 998, 'fixed_small', lambda: z)
    # DPM-Solver++ 2M, 10 steps, linspace: 999 -> 899 (first order), then 899 -> 799 (second order).
    ts = dpm_timesteps(10, 'linspace')
    seq = iter([eps, eps2])
    x1 = dpmpp_2m(x, [ts[0], ts[1]], lambda _x, _t: eps)
    out['dpm++ first order 999->899'] = x1
    x2 = dpmpp_2m(x, [ts[0], ts[1], ts[2]], lambda _x, _t: next(seq), lower_order_final=False)
    out['dpm++ second order 899->799'] = x2
    # final_sigmas_type='sigma_min': the last of 10 steps goes 100 -> 0 (first order with lower_order_final),
    # or, with lower_order_final=False, second order after 200 -> 100.
    out['dpm++ sigma_min last step 100->0 first order'] = dpmpp_2m(x, [100, 0], lambda _x, _t: eps)
    seq = iter([eps, eps2])
    out['dpm++ sigma_min 200->100->0 second order'] = dpmpp_2m(x, [200, 100, 0], lambda _x, _t: next(seq), lower_order_final=False)
    # clip_sample: x̂0 clamped to [-1, 1] before eq. 12 (DDIM, model ε kept) or eq. 7 (DDPM posterior mean).
    at, as_ = abar(600), abar(500)
    x0c = np.clip((x - eps * math.sqrt(1 - at)) / math.sqrt(at), -1.0, 1.0)
    out['ddim eta=0 clipped 600->500'] = math.sqrt(as_) * x0c + math.sqrt(1 - as_) * eps
    a_hat = at / as_
    mean = math.sqrt(as_) * (1 - a_hat) / (1 - at) * x0c + math.sqrt(a_hat) * (1 - as_) / (1 - at) * x
    out['ddpm fixed_small clipped 600->500'] = mean + z * math.sqrt((1 - as_) / (1 - at) * (1 - a_hat))
    # Langevin: one step at level 500 of the levels [500, 0] (sigma_L from t = 0), eps = 2e-5.
    alpha = 2e-5 * ((1 - abar(500)) / abar(500)) / ((1 - abar(0)) / abar(0))
    sigma = math.sqrt((1 - abar(500)) / abar(500))
    out['langevin one step at t=500 (levels [500, 0], eps=2e-5)'] = x + (-eps / sigma) * (alpha / 2) + z * math.sqrt(alpha)
    return {k: [float(v) for v in np.asarray(val)] for k, val in out.items()}


# ---- exact Gaussian output statistics -------------------------------------------------------

class Affine:
    """c + w·ζ for independent standard normals ζ: exact for affine samplers of Gaussian data."""

    def __init__(self, c, w):
        self.c, self.w = c, w

    def _pad(self, other):
        n = max(len(self.w), len(other.w))
        return np.pad(self.w, (0, n - len(self.w))), np.pad(other.w, (0, n - len(other.w)))

    def __add__(self, other):
        a, b = self._pad(other)
        return Affine(self.c + other.c, a + b)

    def __sub__(self, other):
        a, b = self._pad(other)
        return Affine(self.c - other.c, a - b)

    def __mul__(self, k):
        return Affine(self.c * k, self.w * k)

    def __neg__(self):
        return self * -1.0


class Noise:
    def __init__(self):
        self.count = 0

    def __call__(self):
        w = np.zeros(self.count + 1)
        w[self.count] = 1.0
        self.count += 1
        return Affine(0.0, w)


def gaussian_eps(mu, s):
    def eps(x, t):
        a = abar(t)
        return (x - Affine(math.sqrt(a) * mu, np.zeros(0))) * (math.sqrt(1 - a) / (a * s * s + 1 - a))
    return eps


def gaussian_output(config, mu, s):
    noise = Noise()
    x = noise()  # x_T ~ N(0, I)
    eps = gaussian_eps(mu, s)
    kind = config['kind']
    if kind == 'ddpm':
        ts = ddim_timesteps(config['steps'], 'leading')
        for i, t in enumerate(ts):
            prev = ts[i + 1] if i + 1 < len(ts) else -1
            x = ddpm_step(x, eps(x, t), t, prev, config['varianceType'], noise)
    elif kind == 'ddim':
        ts = ddim_timesteps(config['steps'], config.get('spacing', 'leading'))
        for i, t in enumerate(ts):
            prev = ts[i + 1] if i + 1 < len(ts) else -1
            x = ddim_step(x, eps(x, t), t, prev, config['eta'], noise)
    elif kind == 'dpm':
        ts = dpm_timesteps(config['steps'], config.get('spacing', 'linspace')) + [-1]
        x = dpmpp_2m(x, ts, eps)
    elif kind == 'langevin':
        levels = ddim_timesteps(config['levels'], config.get('spacing', 'linspace'))
        x = x * (1.0 / math.sqrt(abar(levels[0])))
        x = langevin(x, levels, config['stepsPerLevel'], config['stepSize'], eps, noise)
    return x.c, float(np.sqrt(np.sum(x.w ** 2)))


# The configurations of packages/samplers/test/gaussian/*.test.ts (data std s = 0.8).
GAUSSIAN_STD = 0.8
GAUSSIAN_CONFIGS = {
    'ddpm fixed_small 1000': {'kind': 'ddpm', 'steps': 1000, 'varianceType': 'fixed_small'},
    'ddpm fixed_large 250': {'kind': 'ddpm', 'steps': 250, 'varianceType': 'fixed_large'},
    'ddim eta=0 50': {'kind': 'ddim', 'steps': 50, 'eta': 0.0},
    'ddim eta=1 50': {'kind': 'ddim', 'steps': 50, 'eta': 1.0},
    'dpm++ 2M 10': {'kind': 'dpm', 'steps': 10},
    'dpm++ 2M 20': {'kind': 'dpm', 'steps': 20},
    'langevin 30x20 eps=1e-4': {'kind': 'langevin', 'levels': 30, 'stepsPerLevel': 20, 'stepSize': 1e-4},
}


def main():
    result = {
        'timesteps': {
            f'{grid} {spacing} {n}': (ddim_timesteps if grid == 'ddim' else dpm_timesteps)(n, spacing)
            for grid in ('ddim', 'dpm')
            for spacing in ('leading', 'linspace', 'trailing')
            for n in (10, 50)
        },
        'steps': golden_steps(),
    }
    # Output mean is linear in μ (coefficient m) and the std does not depend on μ: report both for μ = 1.
    s = GAUSSIAN_STD
    gaussian = {}
    for name, config in GAUSSIAN_CONFIGS.items():
        m, sd = gaussian_output(config, 1.0, s)
        gaussian[name] = {'meanPerUnitMu': m, 'std': sd, 'dataStd': s}
    result['gaussian'] = gaussian
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
