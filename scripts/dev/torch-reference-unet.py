#!/usr/bin/env python3
"""
PyTorch golden fixture for the float64 reference U-Net (packages/core/src/testing/reference).

Builds the level-skipping U-Net independently in PyTorch, following 🤗 diffusers' UNet2DModel
modules (ResnetBlock2D, Attention with group norm + residual, Downsample2D, Upsample2D,
get_timestep_embedding) and the levelskip additions (ode2 blocks, side paths, multi-decoder
stages, level skipping with zero / duplicate / interpolate / mean / cached-feature fills). It draws
weights and inputs with torch's seeded RNG, runs every case in float64 and writes

    packages/core/test/fixtures/torch-reference.json

holding, per case: the spec (levelskip UNetSpecInput), the weights (diffusers names → shape and
float32 data, base64 little-endian), the inputs (same encoding) and the expected ε (float64,
decimal) for each run (k, fill, timesteps, optional stage); plus `ops`: resize (nearest, bilinear,
bicubic) and 'same' avgPool results on random inputs. Weights and inputs are float32 values
(what host tensors hold); the network runs in float64.
packages/core/test/testing/reference-vs-torch.test.ts checks the TypeScript reference against it.

Regenerate (Debian's python3-torch, no other dependency):

    /usr/bin/python3 scripts/dev/torch-reference-unet.py

Skipping semantics (levelskip): with N levels and L = N - 1 - k, the encoder runs levels 0..L
(level L without its downsample), the middle block runs only at k = 0, and the decoder runs
levels L..0, where level L's first block gets concat(fill, skip) instead of concat(h, skip).
The fill has decoder level L+1's channels and level L's size.
"""
import base64
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'core', 'test', 'fixtures', 'torch-reference.json')


def silu(x):
    return x * torch.sigmoid(x)


def timestep_embedding(timesteps, dim, flip_sin_to_cos, freq_shift, max_period=10000):
    """diffusers.models.embeddings.get_timestep_embedding, in float64."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half, dtype=torch.float64, device=timesteps.device) / (half - freq_shift)
    emb = timesteps[:, None].to(torch.float64) * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


class ResBlock(nn.Module):
    """diffusers ResnetBlock2D (kind 'resnet') or the second-order neural-ODE block (kind 'ode2')."""

    def __init__(self, cin, cout, temb, groups, eps, kind, solver, steps):
        super().__init__()
        self.kind, self.solver, self.steps = kind, solver, steps
        inner = cin if kind == 'resnet' else cout
        self.norm1 = nn.GroupNorm(groups, inner, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(inner, cout, 3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps, affine=True)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def field(self, h, e):
        h = self.conv1(silu(self.norm1(h)))
        h = h + e
        return self.conv2(self.dropout(silu(self.norm2(h))))

    def forward(self, x, temb):
        e = self.time_emb_proj(silu(temb))[:, :, None, None]
        if self.kind == 'resnet':
            shortcut = self.conv_shortcut(x) if self.conv_shortcut is not None else x
            return shortcut + self.field(x, e)
        # ode2: h'' = F(h) - h', h(0) = shortcut(x), h'(0) = 0, s in [0, 1].
        h = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        v = torch.zeros_like(h)
        dt = 1.0 / self.steps

        def f(h_, v_):
            return v_, self.field(h_, e) - v_

        for _ in range(self.steps):
            if self.solver == 'euler':
                dh, dv = f(h, v)
                h, v = h + dt * dh, v + dt * dv
            else:
                a_h, a_v = f(h, v)
                b_h, b_v = f(h + 0.5 * dt * a_h, v + 0.5 * dt * a_v)
                c_h, c_v = f(h + 0.5 * dt * b_h, v + 0.5 * dt * b_v)
                d_h, d_v = f(h + dt * c_h, v + dt * c_v)
                h = h + dt / 6.0 * (a_h + 2 * b_h + 2 * c_h + d_h)
                v = v + dt / 6.0 * (a_v + 2 * b_v + 2 * c_v + d_v)
        return h


class Attention(nn.Module):
    """diffusers Attention(query_dim=C, heads, dim_head=C/heads, norm_num_groups, residual_connection=True)."""

    def __init__(self, channels, heads, groups, eps):
        super().__init__()
        self.heads = heads
        self.group_norm = nn.GroupNorm(groups, channels, eps=eps, affine=True)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels), nn.Dropout(0.0)])

    def forward(self, x):
        residual = x
        b, c, hh, ww = x.shape
        h = self.group_norm(x.view(b, c, hh * ww)).transpose(1, 2)  # [B, S, C]
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        d = c // self.heads

        def split(t):  # head_to_batch_dim: [B, S, C] -> [B*H, S, d]
            return t.reshape(b, -1, self.heads, d).permute(0, 2, 1, 3).reshape(b * self.heads, -1, d)

        q, k, v = split(q), split(k), split(v)
        probs = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * d ** -0.5, dim=-1)
        o = torch.bmm(probs, v)
        o = o.reshape(b, self.heads, -1, d).permute(0, 2, 1, 3).reshape(b, -1, c)  # batch_to_head_dim
        o = self.to_out[1](self.to_out[0](o))
        o = o.transpose(-1, -2).reshape(b, c, hh, ww)
        return o + residual


class Downsample(nn.Module):
    """diffusers Downsample2D(use_conv=True, padding)."""

    def __init__(self, channels, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode='constant', value=0)
        return self.conv(x)


class Upsample(nn.Module):
    """diffusers Upsample2D(use_conv=True)."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Stage(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()


class UNet(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        base = spec['baseChannels']
        mults = spec['channelMults']
        n = len(mults)
        self.n = n
        ch = [base * m for m in mults]
        self.ch = ch
        self.sizes = [spec['imageSize'] // 2 ** l for l in range(n)]
        temb = spec.get('timeEmbedDim', 4 * base)
        groups, eps = spec['groups'], 1e-5
        kind = spec.get('block', 'resnet')
        ode = spec.get('ode', {'solver': 'rk4', 'steps': 2})
        heads = spec.get('attentionHeads', 1)
        att = set(spec.get('attentionLevels', []))
        r = spec['resBlocks']
        in_ch = spec['inChannels']
        out_ch = spec.get('outChannels', in_ch)

        def res(cin, cout):
            return ResBlock(cin, cout, temb, groups, eps, kind, ode['solver'], ode['steps'])

        self.time_embedding = nn.Module()
        self.time_embedding.linear_1 = nn.Linear(base, temb)
        self.time_embedding.linear_2 = nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(in_ch, ch[0], 3, padding=1)

        self.down_blocks = nn.ModuleList()
        for l in range(n):
            blk = Stage()
            prev = ch[l - 1] if l > 0 else ch[0]
            for j in range(r):
                blk.resnets.append(res(prev if j == 0 else ch[l], ch[l]))
                if l in att:
                    blk.attentions.append(Attention(ch[l], heads, groups, eps))
            if l < n - 1:
                blk.downsamplers = nn.ModuleList([Downsample(ch[l], spec.get('downsamplePadding', 1))])
            self.down_blocks.append(blk)

        self.mid_block = Stage()
        self.mid_block.resnets.append(res(ch[-1], ch[-1]))
        if spec.get('midAttention', True):
            self.mid_block.attentions.append(Attention(ch[-1], heads, groups, eps))
        self.mid_block.resnets.append(res(ch[-1], ch[-1]))

        stages = spec.get('decoderStages') or [{'tStart': 0, 'tEnd': 1, 'baseChannels': base}]
        self.stages = stages
        self.dch = []
        self.decoders = nn.ModuleList()
        for st in stages:
            dch = [st['baseChannels'] * m for m in mults]
            self.dch.append(dch)
            dec = nn.Module()
            dec.up_blocks = nn.ModuleList()
            for i in range(n):
                l = n - 1 - i
                blk = Stage()
                for j in range(r + 1):
                    skip = ch[l] if j < r else ch[max(l - 1, 0)]
                    h_in = (ch[-1] if l == n - 1 else dch[l + 1]) if j == 0 else dch[l]
                    blk.resnets.append(res(h_in + skip, dch[l]))
                    if l in att:
                        blk.attentions.append(Attention(dch[l], heads, groups, eps))
                if l > 0:
                    blk.upsamplers = nn.ModuleList([Upsample(dch[l])])
                dec.up_blocks.append(blk)
            dec.conv_norm_out = nn.GroupNorm(groups, dch[0], eps=eps)
            dec.conv_out = nn.Conv2d(dch[0], out_ch, 3, padding=1)
            if spec.get('sidePaths', False):
                dec.side_paths = nn.Module()
                dec.side_paths.decoder = nn.ModuleList([nn.Conv2d(ch[-1], dch[L + 1], 1) for L in range(n - 1)])
            self.decoders.append(dec)
        if spec.get('sidePaths', False):
            self.side_paths = nn.Module()
            self.side_paths.encoder = nn.ModuleList([nn.Conv2d(ch[L], ch[-1], 1) for L in range(n - 1)])

    def canonical_names(self):
        """Module parameter name → levelskip/diffusers name ('decoders.0.' dropped for one decoder)."""
        single = self.spec.get('decoderStages') is None
        out = {}
        for name, _ in self.named_parameters():
            out[name] = name[len('decoders.0.'):] if single and name.startswith('decoders.0.') else name
        return out

    def stage_for(self, timesteps):
        t = float(timesteps[0]) / self.spec.get('trainTimesteps', 1000)
        for s, st in enumerate(self.stages):
            if t < st['tEnd']:
                return s
        return len(self.stages) - 1

    def forward(self, x, timesteps, k=0, fill='zero', stage=None, features=None, capture=None):
        spec, n = self.spec, self.n
        cut = n - 1 - k
        if stage is None:
            stage = self.stage_for(timesteps)
        dec, dch = self.decoders[stage], self.dch[stage]
        emb = timestep_embedding(timesteps, spec['baseChannels'], spec.get('flipSinToCos', True), spec.get('freqShift', 0))
        temb = self.time_embedding.linear_2(silu(self.time_embedding.linear_1(emb)))

        h = self.conv_in(x)
        skips = [h]
        for l in range(cut + 1):
            blk = self.down_blocks[l]
            for j, resnet in enumerate(blk.resnets):
                h = resnet(h, temb)
                if len(blk.attentions) > 0:
                    h = blk.attentions[j](h)
                skips.append(h)
            if l < cut:
                h = blk.downsamplers[0](h)
                skips.append(h)

        if k == 0:
            mid = self.mid_block
            h = mid.resnets[0](h, temb)
            if len(mid.attentions) > 0:
                h = mid.attentions[0](h)
            h = mid.resnets[1](h, temb)
        else:
            b = x.shape[0]
            c, size = dch[cut + 1], self.sizes[cut]
            skip = skips[-1]
            if fill == 'zero':
                h = torch.zeros(b, c, size, size, dtype=x.dtype, device=x.device)
            elif fill == 'duplicate':
                idx = torch.tensor([i % skip.shape[1] for i in range(c)], device=skip.device)
                h = skip[:, idx]
            elif fill == 'mean':
                # The duplicate fill's channels, each replaced by its spatial mean, broadcast.
                idx = torch.tensor([i % skip.shape[1] for i in range(c)], device=skip.device)
                h = skip[:, idx].mean(dim=(2, 3), keepdim=True).expand(b, c, size, size).contiguous()
            elif fill == 'interpolate':
                ms = self.sizes[-1]
                m = self.side_paths.encoder[cut](F.interpolate(skip, size=(ms, ms), mode='bicubic', align_corners=False))
                h = dec.side_paths.decoder[cut](F.interpolate(m, size=(size, size), mode='bicubic', align_corners=False))
            elif fill == 'features':
                h = features[cut]
            else:
                raise ValueError(fill)
            assert tuple(h.shape) == (b, c, size, size)

        for i in range(k, n):  # up_blocks[i] serves level n-1-i
            level = n - 1 - i
            blk = dec.up_blocks[i]
            for j, resnet in enumerate(blk.resnets):
                h = torch.cat([h, skips.pop()], dim=1)
                h = resnet(h, temb)
                if len(blk.attentions) > 0:
                    h = blk.attentions[j](h)
            if level > 0:
                h = blk.upsamplers[0](h)
                if capture is not None:
                    capture[level - 1] = h
        return dec.conv_out(silu(dec.conv_norm_out(h)))


def f32(t):
    """Rounds to float32 so that the TypeScript side (Float32Array host tensors) sees identical values."""
    return t.to(torch.float32).to(torch.float64)


def init_weights(model, gen):
    names = model.canonical_names()
    weights = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                value = torch.randn(p.shape, generator=gen, dtype=torch.float64) / math.sqrt(fan_in)
            elif '.norm' in name or 'group_norm' in name or 'conv_norm_out' in name:
                value = (1.0 + 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64)) if name.endswith('weight') else 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64)
            else:
                value = 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64)
            p.copy_(f32(value))
            weights[names[name]] = p.detach().clone()
    return weights


def encode_float32(t):
    """Exact float32 values as base64 of little-endian bytes (a quarter of the size of decimal text)."""
    data = t.detach().to(torch.float32).reshape(-1).numpy().astype('<f4').tobytes()
    return {'shape': list(t.shape), 'float32': base64.b64encode(data).decode('ascii')}


def encode_float64(t):
    """Expected outputs as decimal text, 17 significant digits (round-trips float64)."""
    return {'shape': list(t.shape), 'data': [float(f'{v:.17g}') for v in t.detach().reshape(-1).tolist()]}


def make_case(name, spec, seed, runs_fn, weights_from=None):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = UNet(spec).double().eval()
    weights = init_weights(model, gen)
    b, size, cin = 2, spec['imageSize'], spec['inChannels']
    inputs = {
        'x': f32(torch.randn(b, cin, size, size, generator=gen, dtype=torch.float64)),
        'x2': f32(torch.randn(b, cin, size, size, generator=gen, dtype=torch.float64)),
    }
    runs = []
    with torch.no_grad():
        for run in runs_fn(model):
            ts = torch.tensor(run['timesteps'], dtype=torch.float64)
            x = inputs[run['input']]
            features = None
            if run['fill'] == 'cache':
                # Cache fill: the warm-up call (empty cache) runs at full depth; its decoder-level
                # inputs then stand in for the skipped features of the next call.
                features = {}
                warm = run['warmup']
                model(inputs[warm['input']], torch.tensor(warm['timesteps'], dtype=torch.float64), k=0, stage=run.get('stage'), capture=features)
            eps = model(x, ts, k=run['k'], fill='features' if run['fill'] == 'cache' else run['fill'], stage=run.get('stage'), features=features)
            runs.append({**run, 'output': encode_float64(eps)})
    case = {
        'name': name,
        'spec': spec,
        'inputs': {key: encode_float32(v) for key, v in inputs.items()},
        'runs': runs,
    }
    if weights_from is None:
        case['weights'] = {key: encode_float32(v) for key, v in weights.items()}
    else:
        case['weightsFrom'] = weights_from
    return case, weights


def grid(ks, fills, timesteps, stage=None):
    return [{'k': k, 'fill': f, 'input': 'x', 'timesteps': timesteps, **({'stage': stage} if stage is not None else {})} for k in ks for f in fills]


def op_cases():
    """TensorOps resize / avgPool on random data: F.interpolate, and 'same' average pooling built from padded sums and counts."""
    gen = torch.Generator().manual_seed(4)
    out = []
    inputs = {
        'a': f32(torch.randn(1, 2, 5, 7, generator=gen, dtype=torch.float64)),
        'b': f32(torch.randn(1, 1, 6, 6, generator=gen, dtype=torch.float64)),
    }
    for key, size in [('a', (8, 9)), ('a', (3, 4)), ('a', (5, 7)), ('b', (12, 12)), ('b', (3, 3)), ('b', (2, 2)), ('b', (1, 1))]:
        for mode in ('nearest', 'bilinear', 'bicubic'):
            extra = {} if mode == 'nearest' else {'align_corners': False}
            y = F.interpolate(inputs[key], size=size, mode=mode, **extra)
            out.append({'op': 'resize', 'input': key, 'size': list(size), 'mode': mode, 'output': encode_float64(y)})
    for key in ('a', 'b'):
        x = inputs[key]
        for window, stride in [(3, 1), (2, 2), (3, 2), (2, 1), (4, 3)]:
            pads = []
            for n in (x.shape[3], x.shape[2]):  # F.pad order: width first
                o = -(-n // stride)
                total = max((o - 1) * stride + window - n, 0)
                pads += [total // 2, total - total // 2]
            ones = torch.ones_like(x)
            sums = F.avg_pool2d(F.pad(x, pads), window, stride, divisor_override=1)
            counts = F.avg_pool2d(F.pad(ones, pads), window, stride, divisor_override=1)
            out.append({'op': 'avgPool', 'input': key, 'window': window, 'stride': stride, 'output': encode_float64(sums / counts)})
    return {'inputs': {key: encode_float32(v) for key, v in inputs.items()}, 'cases': out}


def main():
    cases = []

    resnet_spec = {
        'imageSize': 8, 'inChannels': 3, 'baseChannels': 8, 'channelMults': [1, 2, 2], 'resBlocks': 1,
        'attentionLevels': [1], 'midAttention': True, 'attentionHeads': 2, 'groups': 4,
        'downsamplePadding': 0, 'flipSinToCos': False, 'freqShift': 1, 'sidePaths': True,
    }
    t = [130.0, 870.5]
    cache_runs = [
        {'k': k, 'fill': 'cache', 'input': 'x2', 'timesteps': [402.0, 610.0], 'warmup': {'input': 'x', 'timesteps': t}}
        for k in (1, 2)
    ]
    cases.append(make_case('resnet-ddpm-style', resnet_spec, 1, lambda m: grid(range(3), ['zero', 'duplicate', 'interpolate', 'mean'], t) + cache_runs)[0])

    ode_spec = {
        'imageSize': 8, 'inChannels': 3, 'baseChannels': 8, 'channelMults': [1, 2], 'resBlocks': 1,
        'attentionLevels': [], 'midAttention': True, 'attentionHeads': 1, 'groups': 4,
        'block': 'ode2', 'ode': {'solver': 'rk4', 'steps': 2},
    }
    ode_case, ode_weights = make_case('ode2-rk4', ode_spec, 2, lambda m: grid(range(2), ['zero', 'duplicate'], [250.0, 999.0]))
    cases.append(ode_case)
    # Same weights, Euler with 3 steps: only the solver differs.
    euler_spec = {**ode_spec, 'ode': {'solver': 'euler', 'steps': 3}}
    euler_case, euler_weights = make_case('ode2-euler', euler_spec, 2, lambda m: grid(range(2), ['zero', 'duplicate'], [250.0, 999.0]), weights_from='ode2-rk4')
    assert all(torch.equal(ode_weights[key], euler_weights[key]) for key in ode_weights)
    cases.append(euler_case)

    multi_spec = {
        'imageSize': 8, 'inChannels': 3, 'baseChannels': 8, 'channelMults': [1, 2], 'resBlocks': 1,
        'attentionLevels': [0], 'midAttention': False, 'attentionHeads': 1, 'groups': 4, 'sidePaths': True,
        'decoderStages': [{'tStart': 0, 'tEnd': 0.5, 'baseChannels': 8}, {'tStart': 0.5, 'tEnd': 1, 'baseChannels': 4}],
    }
    fills = ['zero', 'duplicate', 'interpolate', 'mean']
    cases.append(make_case('multi-decoder', multi_spec, 3, lambda m: (
        grid(range(2), fills, [100.0, 400.0])  # stage 0 by time
        + grid(range(2), fills, [600.0, 950.0])  # stage 1 by time
        + grid(range(2), fills, [100.0, 400.0], stage=1)  # explicit stage override
    ))[0])

    text = json.dumps({'generator': 'scripts/dev/torch-reference-unet.py', 'torch': torch.__version__, 'cases': cases, 'ops': op_cases()}, separators=(',', ':'))
    with open(OUT, 'w') as f:
        f.write(text + '\n')
    print(f'wrote {os.path.normpath(OUT)} ({len(text) / 1e6:.2f} MB, {len(cases)} cases)', file=sys.stderr)


if __name__ == '__main__':
    main()
