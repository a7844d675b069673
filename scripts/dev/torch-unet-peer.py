#!/usr/bin/env python3
"""
PyTorch peer of levelskip's speed benchmark (bench/speed.mjs, `pnpm bench speed`), on the CPU or, with --device cuda, a GPU.

Loads the same checkpoint directory levelskip writes (model.json + model.safetensors, diffusers
tensor names) into the independent PyTorch U-Net of scripts/dev/torch-reference-unet.py (diffusers
UNet2DModel modules plus level skipping and the zero / duplicate / interpolate / cached-feature
fills), run here in float32 under torch.inference_mode() with torch.set_num_threads(N). It then

  1. checks parity: max |Δε| against ε that levelskip-onnx computed for the same weights, inputs,
     depths k and fills (exit status 3 when any case exceeds the tolerance, before any timing);
  2. times forward passes per depth k (interleaved rounds, medians), per fill and batch;
     for the cache fill also the plain full network (no cache) in the same rounds. A
     multi-decoder U-Net (spec.decoderStages: shared encoder, one decoder per timestep stage) is
     timed per stage × k, each stage at its own timestep, all in the same rounds;
  3. times DDIM(η = 0) sampling runs with the same timesteps and the same k per step as
     levelskip's sample() (the cache fill: features are cached per decoder stage, as core's
     FeatureCache keeps them; a step whose cut level has no cached features for its stage yet
     runs at full depth, and every step stores the decoder inputs after each upsample, as
     levelskip does); c = 0 is the plain full network (no fill, no cache); schedules alternate
     in order from round to round;
  4. times a plain large 3×3 conv and a large matmul (the machine's attainable peak in torch).

This is a development tool, not a dependency: Debian's python3-torch and python3-numpy, nothing else.
The safetensors file is parsed by hand (8-byte little-endian header length, JSON header, raw data).

Usage:

    /usr/bin/python3 scripts/dev/torch-unet-peer.py --job JOB.json
    /usr/bin/python3 scripts/dev/torch-unet-peer.py --checkpoint DIR [--batches 1 16] [--fills zero]
        [--threads 2] [--min-s 1.5] [--device cpu|cuda]

--device cuda (or the job's "device": "cuda") runs the same float32 network on a CUDA GPU, with
cudnn.benchmark on, and synchronizes the device after every timed call, so each time counts the
GPU work of that call; parity still compares with the ε levelskip computed (on any backend).

Decoder stage: every call's stage is derived from its timesteps exactly as core's stageForTime
does (t = timestep / trainTimesteps; the first stage whose tEnd exceeds t; t = 1: the last), and a
batch whose timesteps select different stages is refused, as levelskip refuses it. Where the job
names a stage as well, it must agree. A single-decoder U-Net has one stage, 0.

Job file (written by bench/speed.mjs through bench/lib/torch-peer.mjs):

    {
      "threads": 2,
      "device": "cpu",                                                   # optional; or "cuda"
      "timing": {"warmupRounds": 1, "minRounds": 5, "minMs": 1500, "slowRoundMs": 10000},
      "models": {"<id>": "<checkpoint directory>", ...},
      "parity": [{"model": id, "name": "mnistSmall", "tolerance": 1e-3,
                  "inputs": {"<name>": {"shape": [...], "float32": base64}},
                  "runs": [{"k": 1, "fill": "zero", "input": "x", "timesteps": [...],
                            "stage": 0?,                                        # multi-decoder: checked
                            "warmup": {"input": "x2", "timesteps": [...]}?,   # cache fill only, same stage
                            "expected": {"shape": [...], "float32": base64}}]}],
      "predict": [{"key": str, "model": id, "batch": 16, "fill": "zero", "ks": [0, 1, 2, 3],
                   "timestep": 500                                             # single decoder, or
                   "stages": [{"stage": 0, "timestep": 220}, ...]}],          # per-stage timing
      "sample": [{"key": str, "model": id, "batch": 1, "fill": "cache", "timesteps": [980, ...],
                  "schedules": [{"c": 0, "ks": [0, ...]}, ...], "rounds": 3}],
      "peak": {"conv": {"batch": 16, "channels": 64, "size": 32, "kernel": 3}, "matmul": {"n": 1024}} | null
    }

Output: JSON Lines on stdout, one object per finished unit, so that a caller can store each result
as it arrives (progress and resumption); human-readable progress goes to stderr:

    {"type": "info", "torch": ..., "numpy": ..., "threads": 2, "blas": ..., ...}
    {"type": "parity", "model": id, "name": ..., "tolerance": ..., "passed": bool, "maxAbsDiff": ...,
     "cases": [{"stage"?, "k", "fill", "maxAbsDiff", "maxAbsEps"}]}          # stage: multi-decoder only
    {"type": "predict", "key": ..., "timestep": 500, "ks": [{"k", "ms", "runs", "minMs", "maxMs", "timesMs"}],
     "baseline": {...} | null}                      # cache fill: the full network without cache, same rounds
    {"type": "predict", "key": ..., "stages": [{"stage", "timestep"}],      # an item with "stages"
     "ks": [{"stage", "k", ...timing}], "baselines": [{"stage", ...timing}]?}  # baselines: cache fill
    {"type": "sample", "key": ..., "stages": [stage of each step],
     "schedules": [{"c", "ms", "runs", "minMs", "maxMs", "timesMs", "effectiveKs"}]}
    {"type": "peak", "conv": {..., "flops", "ms", "gflops"}, "matmul": {...}}

Every object also carries "cpuSeconds": the CPU time this process (all its threads) has used so
far, so that the caller can tell the peer's own CPU use from other work on the machine.
"""
import argparse
import base64
import importlib.util
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the model, its inputs and its outputs live: 'cpu' (the peer of the CPU benchmark) or a
# CUDA device ('cuda', 'cuda:0') for the GPU peer; set from --device or the job's "device".
DEVICE = torch.device('cpu')


def synchronize():
    """Waits for the device's queued work, so that a timer read after it counts that work."""
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize(DEVICE)


def log(message):
    print(f'[torch-peer] {message}', file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps({**obj, 'cpuSeconds': time.process_time()}, separators=(',', ':')), flush=True)


def load_reference():
    """The reference U-Net module; its sinusoidal embedding is float64 (it runs float64 models), narrowed here."""
    spec = importlib.util.spec_from_file_location('torch_reference_unet', os.path.join(HERE, 'torch-reference-unet.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    wide = module.timestep_embedding
    module.timestep_embedding = lambda *args, **kwargs: wide(*args, **kwargs).to(torch.float32)
    return module


# --- checkpoint -------------------------------------------------------------------------------

def read_safetensors(path):
    """safetensors by hand: u64 LE header length N, N bytes of JSON, then the tensors' bytes."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit(f'{path}: too short for a safetensors file')
    n = int.from_bytes(data[:8], 'little')
    if n > len(data) - 8:
        raise SystemExit(f'{path}: header length {n} exceeds the file')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        shape = [int(d) for d in info['shape']]
        begin, end = info['data_offsets']
        count = math.prod(shape)
        sizes = {'F32': 4, 'F16': 2, 'BF16': 2}
        if info['dtype'] not in sizes:
            raise SystemExit(f'{path}: tensor {name} has dtype {info["dtype"]}; the peer reads F32, F16 and BF16')
        if end - begin != count * sizes[info['dtype']] or base + end > len(data):
            raise SystemExit(f'{path}: tensor {name}: bytes [{begin}, {end}) do not hold shape {shape} of {info["dtype"]}')
        raw = data[base + begin:base + end]
        if info['dtype'] == 'F32':
            array = np.frombuffer(raw, dtype='<f4', count=count)
        elif info['dtype'] == 'F16':
            array = np.frombuffer(raw, dtype='<f2', count=count).astype(np.float32)
        else:
            array = (np.frombuffer(raw, dtype='<u2', count=count).astype(np.uint32) << 16).view(np.float32)
        tensors[name] = torch.from_numpy(array.astype(np.float32).reshape(shape).copy())
    return tensors


def load_model(reference, directory):
    """Builds the reference U-Net (float32, eval) from a levelskip checkpoint directory; names must match exactly."""
    with open(os.path.join(directory, 'model.json'), encoding='utf-8') as f:
        manifest = json.load(f)
    spec = manifest['spec']
    if abs(spec.get('normEps', 1e-5) - 1e-5) > 1e-12:
        raise SystemExit(f'{directory}: normEps {spec["normEps"]} is not supported by the reference U-Net (it uses 1e-5)')
    tensors = read_safetensors(os.path.join(directory, manifest.get('weightsFile', 'model.safetensors')))
    model = reference.UNet(spec).float().eval()
    names = model.canonical_names()
    params = dict(model.named_parameters())
    missing = sorted(canon for canon in names.values() if canon not in tensors)
    unexpected = sorted(set(tensors) - set(names.values()))
    if missing or unexpected:
        raise SystemExit(f'{directory}: weight names differ from the reference U-Net: missing {missing[:5]}{"…" if len(missing) > 5 else ""}, '
                         f'unexpected {unexpected[:5]}{"…" if len(unexpected) > 5 else ""}')
    state = {}
    for module_name, canon in names.items():
        tensor = tensors[canon]
        if tuple(tensor.shape) != tuple(params[module_name].shape):
            raise SystemExit(f'{directory}: {canon} has shape {list(tensor.shape)}, the reference expects {list(params[module_name].shape)}')
        state[module_name] = tensor
    model.load_state_dict(state, strict=True)
    return spec, model.to(DEVICE)


# --- running the model --------------------------------------------------------------------------

def decoder_stages(spec):
    """The decoder stages of a spec; a single-decoder U-Net is one stage over t ∈ [0, 1]."""
    return spec.get('decoderStages') or [{'tStart': 0, 'tEnd': 1, 'baseChannels': spec['baseChannels']}]


def stage_for_time(stages, t):
    """core's stageForTime: the stage whose [tStart, tEnd) holds t (the first whose tEnd exceeds it); t = 1 → the last."""
    for s, st in enumerate(stages):
        if t < st['tEnd']:
            return s
    return len(stages) - 1


def stage_of(spec, timesteps, what, expected=None):
    """The decoder stage a batch's timesteps select, as levelskip's predict() picks it: every timestep
    must select the same stage (levelskip refuses a mixed batch), and a stage the job names must agree."""
    T = spec.get('trainTimesteps', 1000)
    stages = decoder_stages(spec)
    found = sorted({stage_for_time(stages, float(t) / T) for t in timesteps})
    if len(found) != 1:
        raise SystemExit(f'{what}: timesteps {list(timesteps)} select decoder stages {found}; levelskip refuses a batch that mixes '
                         'stages, so the job must split it by stage (bench/speed.mjs builds one batch per stage)')
    if expected is not None and expected != found[0]:
        raise SystemExit(f'{what}: the job names decoder stage {expected}, but timesteps {list(timesteps)} select stage {found[0]} '
                         f'(stage intervals {[[st["tStart"], st["tEnd"]] for st in stages]}, trainTimesteps {T})')
    return found[0]


def predict(model, x, timesteps, k, fill, cache, stage):
    """One ε prediction at depth k on decoder `stage`, with levelskip's cache-fill rule. The cache is
    {stage: {level: features}}, kept per stage as core's FeatureCache keeps it (a decoder's features
    have its own widths and meaning), so a step whose cut level holds nothing for its stage yet (the
    first skipping step of a run, and of each new stage) runs at full depth."""
    if fill == 'cache':
        features = cache.setdefault(stage, {})
        if k > 0 and (model.n - 1 - k) not in features:
            k = 0
        if k == 0:
            return model(x, timesteps, k=0, stage=stage, capture=features), 0
        return model(x, timesteps, k=k, fill='features', stage=stage, features=features, capture=features), k
    return model(x, timesteps, k=k, fill=fill, stage=stage), k


def decode(encoded):
    data = np.frombuffer(base64.b64decode(encoded['float32']), dtype='<f4')
    return torch.from_numpy(data.copy()).reshape(encoded['shape']).to(DEVICE)


def timesteps_tensor(values, batch):
    if len(values) == 1:
        values = values * batch
    return torch.tensor(values, dtype=torch.float64, device=DEVICE)


def run_parity(case, spec, model):
    inputs = {name: decode(v) for name, v in case['inputs'].items()}
    multi = len(decoder_stages(spec)) > 1
    results = []
    worst = 0.0
    for run in case['runs']:
        x = inputs[run['input']]
        named = run.get('stage')
        label = f'parity {case["name"]}{"" if named is None else f" stage {named}"} {run["fill"]} k={run["k"]}'
        stage = stage_of(spec, run['timesteps'], label, named)
        cache = {} if run['fill'] == 'cache' else None
        if 'warmup' in run:
            warm = run['warmup']
            w = inputs[warm['input']]
            # The warm-up fills the cache of the stage the run reads (levelskip's parity batch does the same).
            stage_of(spec, warm['timesteps'], f'{label} warm-up', stage)
            predict(model, w, timesteps_tensor(warm['timesteps'], w.shape[0]), 0, 'cache', cache, stage)
        eps, used = predict(model, x, timesteps_tensor(run['timesteps'], x.shape[0]), run['k'], run['fill'], cache, stage)
        if used != run['k']:
            raise SystemExit(f'{label}: ran at depth {used}: the warm-up left no cached features for stage {stage}')
        expected = decode(run['expected'])
        if tuple(eps.shape) != tuple(expected.shape):
            raise SystemExit(f'{label}: shape {list(eps.shape)} vs levelskip {list(expected.shape)}')
        diff = float((eps - expected).abs().max())
        worst = max(worst, diff)
        results.append({**({'stage': stage} if multi else {}), 'k': run['k'], 'fill': run['fill'], 'maxAbsDiff': diff, 'maxAbsEps': float(expected.abs().max())})
        log(f'{label}: max |Δε| = {diff:.3g} (max |ε| = {results[-1]["maxAbsEps"]:.3g})')
    return {'maxAbsDiff': worst, 'cases': results}


def time_interleaved(candidates, timing):
    """Mirror of bench/lib/timing.mjs: warm-up rounds, then interleaved timed rounds (reversed every other round), medians."""
    for _ in range(timing['warmupRounds']):
        for run in candidates:
            run()
    synchronize()
    times = [[] for _ in candidates]
    begin = time.perf_counter()
    rounds = 0
    while True:
        order = list(range(len(candidates)))
        if rounds % 2 == 1:
            order.reverse()
        for i in order:
            start = time.perf_counter()
            candidates[i]()
            synchronize()
            times[i].append((time.perf_counter() - start) * 1000)
        rounds += 1
        elapsed = (time.perf_counter() - begin) * 1000
        needed = min(timing['minRounds'], 3) if elapsed / rounds > timing.get('slowRoundMs', 10000) else timing['minRounds']
        if rounds >= needed and elapsed >= timing['minMs'] * len(candidates):
            break
    r = lambda v: round(v, 3)  # noqa: E731
    return [{'ms': r(statistics.median(t)), 'runs': len(t), 'minMs': r(min(t)), 'maxMs': r(max(t)), 'timesMs': [r(v) for v in t]} for t in times]


def input_batch(spec, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, spec['inChannels'], spec['imageSize'], spec['imageSize'], generator=gen, dtype=torch.float32).to(DEVICE)


def time_predict(item, spec, model, timing):
    """Per-k forward time. For the cache fill, each k reads features a full-depth call of the same
    stage stored (as in a sampling run) and every call stores the decoder inputs again; the cache
    fill's baseline is then the plain full network (no cache), timed in the same rounds.

    An item with `stages` (a multi-decoder U-Net) is timed per stage × k, each stage at its own
    timestep, all in one set of interleaved rounds, in levelskip's order (bench/speed.mjs
    measurePredict): per stage, the cache fill's baseline, then k = 0 … N-1. Returns the message
    fields: `timestep`, `ks`, `baseline` for a single stage; `stages`, `ks` with `stage`,
    `baselines` per stage for an item with `stages`."""
    x = input_batch(spec, item['batch'], 0)
    fill = item['fill']
    per_stage = item.get('stages') is not None
    entries = item['stages'] if per_stage else [{'timestep': item['timestep']}]
    stages = []
    candidates = []
    labels = []
    for entry in entries:
        t = timesteps_tensor([entry['timestep']], item['batch'])
        stage = stage_of(spec, [entry['timestep']], f'predict {item["key"]} timestep {entry["timestep"]}', entry.get('stage'))
        stages.append({'stage': stage, 'timestep': entry['timestep']})
        if fill == 'cache':
            candidates.append(lambda t=t, stage=stage: model(x, t, k=0, stage=stage))
            labels.append({'baseline': True, 'stage': stage})
        for k in item['ks']:
            cache = None
            if fill == 'cache':
                cache = {}
                predict(model, x, t, 0, 'cache', cache, stage)

            def run(k=k, cache=cache, t=t, stage=stage):
                eps, used = predict(model, x, t, k, fill, cache, stage)
                if used != k:
                    raise SystemExit(f'predict {item["key"]}: the cache fill ran stage {stage} at depth {used}, not {k}')
                return eps

            candidates.append(run)
            labels.append({'stage': stage, 'k': k})
    results = time_interleaved(candidates, timing)
    ks = []
    baselines = []
    for label, result in zip(labels, results):
        if label.get('baseline'):
            baselines.append({'stage': label['stage'], **result})
        else:
            ks.append({**({'stage': label['stage']} if per_stage else {}), 'k': label['k'], **result})
    if not per_stage:
        baseline = {key: value for key, value in baselines[0].items() if key != 'stage'} if baselines else None
        return {'timestep': item['timestep'], 'ks': ks, 'baseline': baseline}
    return {'stages': stages, 'ks': ks, **({'baselines': baselines} if baselines else {})}


def ddim_coefficients(timesteps, train_timesteps):
    """DDIM η = 0 with DDPM's linear betas (1e-4 … 0.02): x_s = a·x_t + b·ε, as levelskip's ddim() step (two scales and an add)."""
    betas = torch.linspace(1e-4, 0.02, train_timesteps, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    out = []
    for i, t in enumerate(timesteps):
        ab_t = float(alpha_bar[t])
        ab_s = float(alpha_bar[timesteps[i + 1]]) if i + 1 < len(timesteps) else 1.0
        a = math.sqrt(ab_s / ab_t)
        b = math.sqrt(1 - ab_s) - math.sqrt(ab_s) * math.sqrt(1 - ab_t) / math.sqrt(ab_t)
        out.append((a, b))
    return out


def time_sample(item, spec, model, timing):
    batch, fill, timesteps = item['batch'], item['fill'], item['timesteps']
    coefficients = ddim_coefficients(timesteps, spec.get('trainTimesteps', 1000))
    z = input_batch(spec, batch, 1)
    t_tensors = [timesteps_tensor([t], batch) for t in timesteps]
    # Each step's decoder stage, as levelskip's predict() picks it from the step's timestep.
    stages = [stage_of(spec, [t], f'sample {item["key"]} step {i} (timestep {t})') for i, t in enumerate(timesteps)]
    effective = {}

    def make_run(schedule):
        ks = schedule['ks']
        # c = 0 is the full network as a user runs it without skipping: no fill, no feature cache.
        run_fill = fill if schedule['c'] != 0 else 'zero'

        def run():
            x = z.clone()
            cache = {} if run_fill == 'cache' else None  # per run and per stage, as levelskip's sample()
            used_ks = []
            for i in range(len(timesteps)):
                eps, used = predict(model, x, t_tensors[i], ks[i], run_fill, cache, stages[i])
                used_ks.append(used)
                a, b = coefficients[i]
                x = a * x + b * eps
            effective[schedule['c']] = used_ks
            return x

        return run

    settings = {**timing, 'minMs': 0, 'minRounds': item['rounds']}
    results = time_interleaved([make_run(s) for s in item['schedules']], settings)
    return stages, [{'c': s['c'], **r, 'effectiveKs': effective[s['c']]} for s, r in zip(item['schedules'], results)]


def time_peak(peak, timing):
    out = {}
    conv = peak['conv']
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(conv['batch'], conv['channels'], conv['size'], conv['size'], generator=gen).to(DEVICE)
    w = (torch.randn(conv['channels'], conv['channels'], conv['kernel'], conv['kernel'], generator=gen) / math.sqrt(conv['channels'] * conv['kernel'] ** 2)).to(DEVICE)
    pad = conv['kernel'] // 2
    [r] = time_interleaved([lambda: torch.nn.functional.conv2d(x, w, padding=pad)], timing)
    flops = 2 * conv['batch'] * conv['channels'] ** 2 * conv['kernel'] ** 2 * conv['size'] ** 2
    out['conv'] = {**conv, 'flops': flops, **r, 'gflops': round(flops / (r['ms'] / 1000) / 1e9, 2)}
    n = peak['matmul']['n']
    a = torch.randn(n, n, generator=gen).to(DEVICE)
    b = torch.randn(n, n, generator=gen).to(DEVICE)
    [r] = time_interleaved([lambda: torch.mm(a, b)], timing)
    flops = 2 * n ** 3
    out['matmul'] = {'n': n, 'flops': flops, **r, 'gflops': round(flops / (r['ms'] / 1000) / 1e9, 2)}
    return out


def blas_library():
    """Which BLAS Debian's alternatives give torch (libopenblas0-pthread, -openmp, or the reference BLAS)."""
    for candidate in ('/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3'):
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--job', help='job file written by bench/lib/torch-peer.mjs')
    parser.add_argument('--checkpoint', help='a levelskip checkpoint directory (standalone per-k timing)')
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 16])
    parser.add_argument('--fills', nargs='+', default=['zero'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--min-s', type=float, default=1.5)
    parser.add_argument('--device', default=None, help="'cpu' (default) or a CUDA device such as 'cuda' (the job's \"device\" otherwise)")
    args = parser.parse_args()
    if args.job:
        with open(args.job, encoding='utf-8') as f:
            job = json.load(f)
    elif args.checkpoint:
        with open(os.path.join(args.checkpoint, 'model.json'), encoding='utf-8') as f:
            spec = json.load(f)['spec']
        T = spec.get('trainTimesteps', 1000)
        # A multi-decoder U-Net: every stage at the middle of its t-interval (as bench/speed-tables.mjs times it).
        stages = decoder_stages(spec)
        where = ({'stages': [{'stage': s, 'timestep': min(T - 1, math.floor(T * (st['tStart'] + st['tEnd']) / 2))} for s, st in enumerate(stages)]}
                 if len(stages) > 1 else {'timestep': 500})
        job = {
            'threads': args.threads,
            'timing': {'warmupRounds': 1, 'minRounds': 5, 'minMs': args.min_s * 1000, 'slowRoundMs': 10000},
            'models': {'model': args.checkpoint},
            'parity': [],
            'predict': [{'key': f'b{b}|{fill}', 'model': 'model', 'batch': b, 'fill': fill, 'ks': None, **where}
                        for b in args.batches for fill in args.fills],
            'sample': [],
            'peak': None,
        }
    else:
        parser.error('give --job FILE or --checkpoint DIR')

    global DEVICE
    DEVICE = torch.device(args.device or job.get('device') or 'cpu')
    if DEVICE.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'--device {DEVICE}: torch {torch.__version__} sees no CUDA device; use --device cpu')
    if DEVICE.type not in ('cpu', 'cuda'):
        raise SystemExit(f'--device {DEVICE}: only cpu and cuda devices are supported')
    if DEVICE.type == 'cuda':
        torch.backends.cudnn.benchmark = True  # fixed shapes per timed call: let cuDNN pick its fastest convolution
    threads = int(job['threads'])
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set by an earlier parallel region; intra-op threads are what matter here
    if torch.get_num_threads() != threads:
        raise SystemExit(f'torch runs {torch.get_num_threads()} threads, asked for {threads}')
    emit({'type': 'info', 'torch': torch.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0], 'threads': torch.get_num_threads(),
          'interopThreads': torch.get_num_interop_threads(), 'mkldnn': bool(torch.backends.mkldnn.is_available()), 'blas': blas_library(),
          'device': str(DEVICE), **({'deviceName': torch.cuda.get_device_name(DEVICE), 'cuda': torch.version.cuda, 'cudnn': torch.backends.cudnn.version()} if DEVICE.type == 'cuda' else {})})

    reference = load_reference()
    models = {}

    def model_for(model_id):
        if model_id not in models:
            models[model_id] = load_model(reference, job['models'][model_id])
        return models[model_id]

    timing = job['timing']
    with torch.inference_mode():
        for case in job.get('parity') or []:
            spec, model = model_for(case['model'])
            result = run_parity(case, spec, model)
            passed = result['maxAbsDiff'] <= case['tolerance']
            emit({'type': 'parity', 'model': case['model'], 'name': case['name'], 'tolerance': case['tolerance'], 'passed': passed, **result})
            if not passed:
                log(f'PARITY FAILED for {case["name"]}: max |Δε| = {result["maxAbsDiff"]:.3g} > {case["tolerance"]}; the PyTorch U-Net does not compute '
                    'what levelskip computes, so its timings would compare different work. Nothing was timed.')
                sys.exit(3)
        for item in job.get('predict') or []:
            spec, model = model_for(item['model'])
            if item.get('ks') is None:
                item['ks'] = list(range(len(spec['channelMults'])))
            log(f'predict {item["key"]}')
            emit({'type': 'predict', 'key': item['key'], **time_predict(item, spec, model, timing)})
        for item in job.get('sample') or []:
            spec, model = model_for(item['model'])
            log(f'sample {item["key"]}')
            stages, schedules = time_sample(item, spec, model, timing)
            emit({'type': 'sample', 'key': item['key'], 'stages': stages, 'schedules': schedules})
        if job.get('peak'):
            log('peak conv / matmul')
            emit({'type': 'peak', **time_peak(job['peak'], timing)})


if __name__ == '__main__':
    main()
