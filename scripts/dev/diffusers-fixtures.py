#!/usr/bin/env python3
"""
Golden fixtures from the real 🤗 diffusers code: small UNet2DModel directories, a DDPMPipeline
directory, and what diffusers computes with them, for test/diffusers (levelskip loads each
directory and must reproduce the numbers; see test/diffusers/diffusers-parity.test.ts).

It writes test/diffusers/fixtures/:

  <name>/                    a directory exactly as diffusers' save_pretrained wrote it (one has
                             its attention tensors renamed to the deprecated names afterwards);
  expected/<name>.safetensors  inputs and outputs, float32:
      eps.input   [B, C, H, W]   x fed to the model          eps.output  ε = unet(x, t).sample
      ddim.<i>.noise             x_T: levelskip's sample()   ddim.<i>.final  x_0 after DDIM-10 (η = 0)
                                 noise for the run's seed
      pipeline.image             DDPMPipeline(...)(output_type='np').images, NHWC in [0, 1]
  fixtures.json              what each fixture is, its timesteps, each DDIM run's full
                             DDIMScheduler config and the timestep list diffusers used, the
                             versions that produced them.

The models (fixed seeds, 71k–178k parameters) cover what levelskip's diffusers loader accepts:
attention at one level (1 or several heads), attention in the middle block or not, 2 or 3
levels, 1 or 2 res blocks per level, GroupNorm groups 4/8, norm_eps 1e-5/1e-6,
flip_sin_to_cos, freq_shift, downsample_padding 0/1, 1, 2 or 3 channels; the storage forms:
safetensors, the deprecated attention names (query/key/value/proj_attn), a PyTorch `.bin`
(torch.save zip) and an fp16 variant (`diffusion_pytorch_model.fp16.safetensors` only); and the
schedules: linear and squaredcos_cap_v2 betas, leading (steps_offset 0 and 1) and trailing
spacing, clip_sample on and off, epsilon, v_prediction and sample (the note at the
schedulers below says why the ε runs use the cosine schedule with clipping).

GroupNorm affine parameters get random jitter (diffusers initialises them to 1 and 0), so a
loader that swapped weight and bias, or ignored them, fails.

Every directory is loaded back with diffusers' own from_pretrained (variant='fp16' where
needed) before anything is computed, and the numbers come from that loaded model: they are what
a diffusers user gets from the directory. For the deprecated names this proves diffusers
renames them; the script asserts the reloaded model equals the one saved.

Runs on Debian's python3-torch 1.13 with the diffusers v0.31.0 source (fetched from GitHub,
extracted to /work/diffusers-src or --diffusers-src) and the offline stand-ins in
scripts/dev/diffusers-stubs (safetensors, huggingface_hub; torch_fixes.py restores
torch.baddbmm's documented beta=0 behaviour, which torch 1.13 breaks and diffusers' attention
relies on). Development only, never a dependency:

    git --git-dir <diffusers clone> archive v0.31.0 src/diffusers | tar -x -C /work/diffusers-src
    /usr/bin/python3 scripts/dev/diffusers-fixtures.py [--diffusers-src /work/diffusers-src/src]
"""
import argparse
import contextlib
import copy
import json
import logging
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
STUBS = os.path.join(HERE, 'diffusers-stubs')
OUT = os.path.join(ROOT, 'test', 'diffusers', 'fixtures')


def setup_imports(diffusers_src):
    if not os.path.isdir(os.path.join(diffusers_src, 'diffusers')):
        sys.exit(f'no diffusers source at {diffusers_src}: extract src/diffusers of v0.31.0 there (see the top of this script)')
    sys.path[:0] = [diffusers_src, STUBS]


parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
parser.add_argument('--diffusers-src', default='/work/diffusers-src/src', help='folder holding the diffusers package (its src/)')
parser.add_argument('--diffusers-commit', default='89e4d6219805975bd7d253a267e1951badc9f1c0', help='the commit the source was extracted from (recorded)')
parser.add_argument('--out', default=OUT)
parser.add_argument('--only', nargs='*', help='debugging: only these fixtures (fixtures.json then lists only them)')
args = parser.parse_args()
setup_imports(args.diffusers_src)

import torch  # noqa: E402
import diffusers  # noqa: E402
from diffusers import DDIMScheduler, DDPMPipeline, UNet2DModel  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402  (the stand-in: the real format)
import torch_fixes  # noqa: E402  (diffusers-stubs/torch_fixes.py)

torch_fixes.apply()

torch.set_num_threads(2)
diffusers.utils.logging.set_verbosity_warning()

# Warnings of diffusers while loading (missing / unexpected keys would show up here).
load_messages = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            load_messages.append(record.getMessage())


logging.getLogger('diffusers').addHandler(Collect())

DEPRECATED = {'to_q': 'query', 'to_k': 'key', 'to_v': 'value', 'to_out.0': 'proj_attn'}

# The schedulers of the DDIM runs: DDIMScheduler keyword arguments (everything else: its defaults,
# which are recorded in full from scheduler.config).
# Conditioning. These networks are untrained, so nothing makes a DDIM step contract: an error δ in
# ε reaches x̂₀ = (x - √(1-ᾱ) ε)/√ᾱ multiplied by √(1-ᾱ)/√ᾱ, and the next step multiplies x by
# √(ᾱ_s/ᾱ_t) > 1 without the cancellation a trained ε ≈ noise brings. With linear betas, float32
# rounding alone (diffusers in float32 against diffusers in float64, same weights) moves the final
# image of DDIM-10 by 1e-4..3e-4, so no float32 implementation could be held to 1e-4 there. With
# the cosine schedule (squaredcos_cap_v2) and clipping, the first steps clamp x̂₀ almost
# everywhere and the spread stays at 3e-6..3e-5: the ε-prediction runs use it. Linear betas are
# covered by x₀- and v-prediction runs, whose x̂₀ is well-conditioned at every t. Every run
# records its spread (`float32Spread`), and the test requires it to sit well below its tolerance.
COSINE_LEADING = {'beta_schedule': 'squaredcos_cap_v2'}  # clip_sample True, leading, steps_offset 0, epsilon
COSINE_LEADING_OFFSET = {'beta_schedule': 'squaredcos_cap_v2', 'steps_offset': 1}
COSINE_TRAILING = {'beta_schedule': 'squaredcos_cap_v2', 'timestep_spacing': 'trailing'}
LINEAR_SAMPLE_NOCLIP = {'steps_offset': 1, 'clip_sample': False, 'prediction_type': 'sample'}
LINEAR_V_NOCLIP = {'clip_sample': False, 'prediction_type': 'v_prediction'}
# v-prediction on the cosine schedule from t = 999, where ᾱ = 2.4e-9: x̂₀ = √ᾱ x - √(1-ᾱ) v is
# well-conditioned (float32 spread 8e-7), but only if computed in that form; ε = √(1-ᾱ) x + √ᾱ v
# formed in float32 keeps v's contribution (√ᾱ = 4.9e-5) to about 3 digits.
COSINE_TRAILING_V_NOCLIP = {**COSINE_TRAILING, 'clip_sample': False, 'prediction_type': 'v_prediction'}
PIPELINE_SCHEDULER = {'beta_schedule': 'squaredcos_cap_v2', 'clip_sample': True, 'steps_offset': 1}

FIXTURES = [
    {
        'name': 'unet-attention',
        'description': 'safetensors; 2 levels (16, 32), attention at level 1 and in the middle with attention_head_dim 8 (4 heads); defaults elsewhere',
        'seed': 101,
        'config': dict(
            sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
            down_block_types=('DownBlock2D', 'AttnDownBlock2D'), up_block_types=('AttnUpBlock2D', 'UpBlock2D'),
            norm_num_groups=8, attention_head_dim=8,
        ),
        'save': 'safetensors',
        'ddim': [COSINE_LEADING],
    },
    {
        'name': 'unet-deprecated-attention',
        'description': 'safetensors with the attention weights under the deprecated names query/key/value/proj_attn (as google/ddpm-cifar10-32 stores them); DDPM-CIFAR-like fields: flip_sin_to_cos false, freq_shift 1, downsample_padding 0, norm_eps 1e-6, attention_head_dim null (1 head); 3 levels (8, 16, 16), attention at level 1 and in the middle',
        'seed': 202,
        'config': dict(
            sample_size=16, in_channels=1, out_channels=1, block_out_channels=(8, 16, 16), layers_per_block=1,
            down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
            norm_num_groups=8, attention_head_dim=None, flip_sin_to_cos=False, freq_shift=1, downsample_padding=0, norm_eps=1e-6,
        ),
        'save': 'deprecated-attention',
        'ddim': [COSINE_LEADING_OFFSET, LINEAR_SAMPLE_NOCLIP],
    },
    {
        'name': 'unet-bin',
        'description': 'diffusion_pytorch_model.bin (torch.save zip, safe_serialization=False); 3 levels (8, 16, 16), 2 res blocks per level, GroupNorm groups 4, attention at level 2 and in the middle (attention_head_dim 4: 4 heads), 8×8 images',
        'seed': 303,
        'config': dict(
            sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16, 16), layers_per_block=2,
            down_block_types=('DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D'), up_block_types=('AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D'),
            norm_num_groups=4, attention_head_dim=4,
        ),
        'save': 'bin',
        'ddim': [COSINE_TRAILING],
    },
    {
        'name': 'unet-fp16',
        'description': 'fp16 variant only (diffusion_pytorch_model.fp16.safetensors, weights stored as float16); 2 levels (16, 32), attention at level 0 and in the middle, attention_head_dim null (1 head)',
        'seed': 404,
        'config': dict(
            sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
            down_block_types=('AttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'AttnUpBlock2D'),
            norm_num_groups=8, attention_head_dim=None,
        ),
        'save': 'fp16',
        'ddim': [COSINE_LEADING],
    },
    {
        'name': 'unet-fields',
        'description': 'non-default fields: norm_eps 1e-6, norm_num_groups 4, flip_sin_to_cos false, freq_shift 1, downsample_padding 0, add_attention false (no middle attention), dropout 0.1 (inactive at inference), 2 res blocks per level; 3 levels (8, 16, 16), attention at level 1 (attention_head_dim 4: 4 heads), 2 channels',
        'seed': 505,
        'config': dict(
            sample_size=16, in_channels=2, out_channels=2, block_out_channels=(8, 16, 16), layers_per_block=2,
            down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
            norm_num_groups=4, attention_head_dim=4, norm_eps=1e-6, flip_sin_to_cos=False, freq_shift=1, downsample_padding=0,
            add_attention=False, dropout=0.1,
        ),
        'save': 'safetensors',
        'ddim': [COSINE_LEADING_OFFSET, LINEAR_V_NOCLIP, COSINE_TRAILING_V_NOCLIP],
    },
    {
        'name': 'pipeline-ddpm',
        'description': 'DDPMPipeline directory (model_index.json, unet/, scheduler/scheduler_config.json) with a DDIMScheduler (squaredcos_cap_v2 betas, clip_sample, steps_offset 1); its UNet: 3 levels (8, 16, 16), attention at level 2 and in the middle (1 head), 1 channel',
        'seed': 606,
        'config': dict(
            sample_size=16, in_channels=1, out_channels=1, block_out_channels=(8, 16, 16), layers_per_block=1,
            down_block_types=('DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D'), up_block_types=('AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D'),
            norm_num_groups=8, attention_head_dim=None,
        ),
        'save': 'pipeline',
        'ddim': [PIPELINE_SCHEDULER],
    },
]

EPS_TIMESTEPS = [0, 1, 417, 999]
DDIM_STEPS = 10
DDIM_BATCH = 2


def build_model(fixture):
    torch.manual_seed(fixture['seed'])
    model = UNet2DModel(**fixture['config'])
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            # GroupNorm affine parameters (diffusers: ones and zeros) get jitter; see the top.
            if 'norm' in name:
                parameter.add_(0.2 * torch.randn_like(parameter))
    return model.eval()


def check_no_warnings(what):
    bad = [m for m in load_messages if 'weights' in m.lower() or 'missing' in m.lower() or 'unexpected' in m.lower()]
    if bad:
        sys.exit(f'{what}: diffusers warned while loading: {bad}')
    load_messages.clear()


def save_fixture(fixture, model, directory):
    """Writes the directory; returns (unet directory, the files written)."""
    if os.path.exists(directory):
        shutil.rmtree(directory)
    kind = fixture['save']
    if kind == 'pipeline':
        scheduler = DDIMScheduler(**PIPELINE_SCHEDULER)
        DDPMPipeline(unet=model, scheduler=scheduler).save_pretrained(directory)
        return os.path.join(directory, 'unet')
    if kind == 'bin':
        model.save_pretrained(directory, safe_serialization=False)
    elif kind == 'fp16':
        # As diffusers users publish fp16 variants: the model in half precision, variant 'fp16'.
        half = build_model(fixture).half()
        half.load_state_dict({k: v.half() for k, v in model.state_dict().items()})
        half.save_pretrained(directory, variant='fp16')
    else:
        model.save_pretrained(directory)
    if kind == 'deprecated-attention':
        path = os.path.join(directory, 'diffusion_pytorch_model.safetensors')
        tensors = load_file(path)
        renamed = {}
        count = 0
        for name, tensor in tensors.items():
            new = name
            if '.attentions.' in name:
                for modern, old in DEPRECATED.items():
                    if f'.{modern}.' in name:
                        new = name.replace(f'.{modern}.', f'.{old}.')
                        count += 1
            renamed[new] = tensor
        assert count > 0, 'no attention tensors renamed'
        save_file(renamed, path, metadata={'format': 'pt'})
    return directory


def load_fixture(fixture, directory):
    if fixture['save'] == 'pipeline':
        pipeline = DDPMPipeline.from_pretrained(directory)
        check_no_warnings(fixture['name'])
        return pipeline.unet.eval(), pipeline
    variant = 'fp16' if fixture['save'] == 'fp16' else None
    model, info = UNet2DModel.from_pretrained(directory, variant=variant, low_cpu_mem_usage=False, output_loading_info=True)
    for key in ('missing_keys', 'unexpected_keys', 'mismatched_keys', 'error_msgs'):
        if info[key]:
            sys.exit(f"{fixture['name']}: from_pretrained reported {key}: {info[key]}")
    check_no_warnings(fixture['name'])
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p).all()]
    assert not bad, f"{fixture['name']}: non-finite parameters after from_pretrained: {bad[:5]}"
    return model.float().eval(), None


def ddim_loop(model, scheduler_kwargs, noise, dtype):
    scheduler = DDIMScheduler(**scheduler_kwargs)
    scheduler.set_timesteps(DDIM_STEPS)
    if dtype == torch.float64:
        scheduler.alphas_cumprod = scheduler.alphas_cumprod.double()
        scheduler.final_alpha_cumprod = scheduler.final_alpha_cumprod.double()
    x = noise.clone().to(dtype)
    with torch.no_grad():
        for t in scheduler.timesteps:
            eps = model(x, t).sample
            x = scheduler.step(eps, t, x, eta=0.0).prev_sample
    return x, scheduler


def ddim_run(model, scheduler_kwargs, noise):
    """diffusers' DDIM-10 (η = 0) in float32, its timesteps and config, and the float32 spread: the
    largest difference to the same run in float64 (a float64 copy of the model, ᾱ in float64)."""
    x, scheduler = ddim_loop(model, scheduler_kwargs, noise, torch.float32)
    exact, _ = ddim_loop(copy.deepcopy(model).double(), scheduler_kwargs, noise, torch.float64)
    spread = float((x.double() - exact).abs().max())
    config = {'_class_name': type(scheduler).__name__}
    config.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(scheduler.config).items() if not k.startswith('_')})
    return x, config, [int(t) for t in scheduler.timesteps], spread


def levelskip_noise(seed, shape):
    """x_T as levelskip's sample() draws it for `seed`: the first B·C·H·W standard normals of stream 0
    of core's Philox SeededRng, NCHW (packages/samplers/src/sample.ts). Computed by the built
    @levelskip/core, so the test can run the public sample() from the same x_T."""
    count = 1
    for n in shape:
        count *= n
    code = ("import { SeededRng } from '@levelskip/core';"
            f"process.stdout.write(JSON.stringify(Array.from(new SeededRng({int(seed)}, 0).normal({count}))));")
    try:
        text = subprocess.run(['node', '--input-type=module', '-e', code], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as error:
        sys.exit(f'could not draw levelskip noise with node (build core first: pnpm --filter @levelskip/core build): {error.stderr}')
    return torch.tensor(json.loads(text), dtype=torch.float32).reshape(shape)


@contextlib.contextmanager
def pipeline_noise(noise):
    """DDPMPipeline draws x_T with torch's generator (randn_tensor); here it gets `noise` instead, so
    its own loop and postprocessing run from levelskip's x_T."""
    from diffusers.pipelines.ddpm import pipeline_ddpm

    original = pipeline_ddpm.randn_tensor

    def given(shape, generator=None, device=None, dtype=None, layout=None):
        assert tuple(shape) == tuple(noise.shape), (shape, noise.shape)
        return noise.clone().to(dtype=dtype or noise.dtype)

    pipeline_ddpm.randn_tensor = given
    try:
        yield
    finally:
        pipeline_ddpm.randn_tensor = original


def max_abs(a, b):
    return float((a.float() - b.float()).abs().max())


def main():
    os.makedirs(os.path.join(args.out, 'expected'), exist_ok=True)
    records = []
    for fixture in FIXTURES:
        name = fixture['name']
        if args.only and name not in args.only:
            continue
        directory = os.path.join(args.out, name)
        model = build_model(fixture)
        params = sum(p.numel() for p in model.parameters())
        unet_dir = save_fixture(fixture, model, directory)
        loaded, pipeline = load_fixture(fixture, directory)

        cfg = fixture['config']
        shape = (len(EPS_TIMESTEPS), cfg['in_channels'], cfg['sample_size'], cfg['sample_size'])
        generator = torch.Generator().manual_seed(fixture['seed'] + 1)
        x = torch.randn(shape, generator=generator)
        t = torch.tensor(EPS_TIMESTEPS, dtype=torch.int64)
        with torch.no_grad():
            eps = loaded(x, t).sample
            # The reloaded model is the saved one (fp16: the saved one rounded to fp16).
            reference = model if fixture['save'] != 'fp16' else build_model(fixture).half().float()
            if fixture['save'] == 'fp16':
                reference.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
            saved_eps = reference.eval()(x, t).sample
        drift = max_abs(eps, saved_eps)
        assert drift == 0.0, f'{name}: the reloaded model differs from the saved one by {drift} (finite: {bool(torch.isfinite(eps).all())}, {bool(torch.isfinite(saved_eps).all())})'
        tensors = {'eps.input': x, 'eps.output': eps}

        runs = []
        for i, scheduler_kwargs in enumerate(fixture['ddim']):
            seed = fixture['seed'] + 10 + i
            noise_shape = (DDIM_BATCH, cfg['in_channels'], cfg['sample_size'], cfg['sample_size'])
            noise = levelskip_noise(seed, noise_shape)
            final, config, timesteps, spread = ddim_run(loaded, scheduler_kwargs, noise)
            tensors[f'ddim.{i}.noise'] = noise
            tensors[f'ddim.{i}.final'] = final
            run = {'scheduler': config, 'steps': DDIM_STEPS, 'eta': 0.0, 'timesteps': timesteps,
                   'seed': seed, 'noise': f'ddim.{i}.noise', 'final': f'ddim.{i}.final',
                   'finalMaxAbs': float(final.abs().max()), 'float32Spread': spread}
            if pipeline is not None:
                # The pipeline itself, its initial noise drawn as `noise` (see `pipeline_noise`).
                with pipeline_noise(noise):
                    image = pipeline(batch_size=DDIM_BATCH, num_inference_steps=DDIM_STEPS, output_type='np').images
                image = torch.from_numpy(image).float()
                manual = (final / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
                gap = max_abs(image, manual)
                assert gap <= 1e-6, f'{name}: DDPMPipeline and the DDIM loop differ by {gap}'
                assert pipeline.scheduler.config.steps_offset == scheduler_kwargs['steps_offset']
                tensors['pipeline.image'] = image
                run['pipeline'] = {'image': 'pipeline.image', 'layout': 'NHWC', 'postprocess': '(x / 2 + 0.5).clamp(0, 1)', 'maxAbsDiffToLoop': gap}
            runs.append(run)

        expected_path = os.path.join(args.out, 'expected', f'{name}.safetensors')
        save_file({k: v.contiguous().float() for k, v in tensors.items()}, expected_path)
        files = sorted(os.path.relpath(os.path.join(dp, f), directory) for dp, _, fs in os.walk(directory) for f in fs)
        records.append({
            'name': name,
            'description': fixture['description'],
            'directory': name,
            'kind': 'pipeline' if pipeline is not None else 'unet',
            'files': files,
            'parameters': params,
            'storage': fixture['save'],
            'unetConfig': json.load(open(os.path.join(unet_dir, 'config.json'))),
            'expected': f'expected/{name}.safetensors',
            'eps': {'timesteps': EPS_TIMESTEPS, 'input': 'eps.input', 'output': 'eps.output', 'outputMaxAbs': float(eps.abs().max())},
            'ddim': runs,
        })
        print(f'{name}: {params} parameters, files {files}, max|eps| {float(eps.abs().max()):.3f}', file=sys.stderr)

    manifest = {
        'generator': 'scripts/dev/diffusers-fixtures.py',
        'diffusers': {'version': diffusers.__version__, 'tag': 'v0.31.0', 'commit': args.diffusers_commit,
                      'source': 'https://github.com/huggingface/diffusers (src/diffusers at the tag)'},
        'torch': torch.__version__,
        'python': platform.python_version(),
        'stubs': 'scripts/dev/diffusers-stubs (pure-Python safetensors and offline huggingface_hub stand-ins)',
        'precision': 'float32 on the CPU (fp16 fixture: fp16 weights widened to float32, as from_pretrained loads them into a float32 model)',
        'fixtures': records,
    }
    with open(os.path.join(args.out, 'fixtures.json'), 'w') as handle:
        json.dump(manifest, handle, indent=2)
        handle.write('\n')
    total = 0
    for dp, _, fs in os.walk(args.out):
        total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print(f'wrote {args.out}: {total / 1e6:.2f} MB', file=sys.stderr)


if __name__ == '__main__':
    main()
