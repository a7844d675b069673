#!/usr/bin/env python3
"""
PyTorch peer of packages/train-tfjs/scripts/bench-train.mjs: training and forward throughput
(images/s) of the levelskip `mnistSmall` preset (N = 4 levels, 32x32x1, 32 base channels,
multipliers [1, 2, 2, 4], attention at 8x8 and in the middle) on the CPU.

The model is the independent PyTorch U-Net of scripts/dev/torch-reference-unet.py (diffusers
UNet2DModel modules plus level skipping), built in float32 from the same spec, so both sides run
the same architecture with the same tensor names. One training step is what levelskip's train()
does: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (linear betas), eps-prediction MSE at depth k
with the zero fill, backward, clip_grad_norm_(1.0), Adam (0.9, 0.999, 1e-8), EMA update (0.999).

Throughput is measured per depth k = 0..N-1 (median step time after warm-up); the "uniform"
figure is what the uniform training scheme (k ~ U{0..N-1}) achieves on average:
B / mean_k(time_k). Forward is the same model under torch.no_grad() in eval mode.

    /usr/bin/python3 scripts/dev/torch-train-bench.py [--batch 16 32] [--threads 2] [--min-s 3] [--json]
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

MNIST_SMALL = {
    'imageSize': 32,
    'inChannels': 1,
    'baseChannels': 32,
    'channelMults': [1, 2, 2, 4],
    'resBlocks': 1,
    'attentionLevels': [2],
    'midAttention': True,
    'groups': 8,
    'dropout': 0,
}


def load_reference():
    spec = importlib.util.spec_from_file_location('torch_reference_unet', os.path.join(HERE, 'torch-reference-unet.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The reference computes the sinusoidal embedding in float64 (it runs float64 models); this
    # benchmark runs float32, so narrow it.
    wide = module.timestep_embedding
    module.timestep_embedding = lambda *args, **kwargs: wide(*args, **kwargs).to(torch.float32)
    return module


def linear_alphas_cumprod(steps=1000, start=1e-4, end=0.02):
    betas = torch.linspace(start, end, steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0)


def median_time(fn, warmup, min_runs, min_seconds):
    for _ in range(warmup):
        fn()
    times = []
    begin = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - begin < min_seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, nargs='+', default=[16])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--min-s', type=float, default=3.0)
    parser.add_argument('--min-runs', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = load_reference()
    model = ref.UNet(MNIST_SMALL).float()
    n = model.n
    params = [p for p in model.parameters()]
    optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.999), eps=1e-8)
    ema = [p.detach().clone() for p in params]
    abar = linear_alphas_cumprod().to(torch.float32)
    size, cin = MNIST_SMALL['imageSize'], MNIST_SMALL['inChannels']

    results = {'device': 'cpu', 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'levels': n,
               'parameters': sum(p.numel() for p in params), 'batches': []}
    for batch in args.batch:
        x0 = torch.rand(batch, cin, size, size) * 2 - 1

        def train_step(k):
            t = torch.randint(0, 1000, (batch,))
            eps = torch.randn_like(x0)
            a = abar[t].view(-1, 1, 1, 1)
            xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
            model.train()
            # set_to_none: skipped levels get no gradient and Adam leaves them alone (as levelskip does).
            optimizer.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xt, t, k=k, fill='zero'), eps)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            with torch.no_grad():
                for e, p in zip(ema, params):
                    e.mul_(0.999).add_(p.detach(), alpha=0.001)
            return loss.item()

        def forward(k):
            model.eval()
            with torch.no_grad():
                t = torch.full((batch,), 500)
                return model(x0, t, k=k, fill='zero').sum().item()

        row = {'batch': batch, 'train': {}, 'forward': {}}
        for k in range(n):
            seconds, runs = median_time(lambda: train_step(k), args.warmup, args.min_runs, args.min_s)
            row['train'][k] = {'ms': seconds * 1000, 'runs': runs, 'imagesPerSecond': batch / seconds}
            seconds, runs = median_time(lambda: forward(k), args.warmup, args.min_runs, args.min_s)
            row['forward'][k] = {'ms': seconds * 1000, 'runs': runs, 'imagesPerSecond': batch / seconds}
        for kind in ('train', 'forward'):
            mean_ms = sum(row[kind][k]['ms'] for k in range(n)) / n
            row[kind]['uniform'] = {'ms': mean_ms, 'imagesPerSecond': batch / (mean_ms / 1000)}
        results['batches'].append(row)
        if not args.json:
            print(f'batch {batch}:')
            for kind in ('train', 'forward'):
                cells = '  '.join(f'k={k} {row[kind][k]["imagesPerSecond"]:7.1f}' for k in range(n))
                print(f'  {kind:8s} img/s  {cells}  uniform {row[kind]["uniform"]["imagesPerSecond"]:7.1f}')
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()


if __name__ == '__main__':
    main()
