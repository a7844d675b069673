#!/usr/bin/env node
/**
 * Round trip levelskip → 🤗 diffusers, run once by hand (issue 23, "Round trip"): exports the
 * shipped mnist-full with core's `saveDiffusersModel` (what `levelskip export --format diffusers`
 * runs), computes levelskip's outputs for fixed inputs on both backends (ONNX Runtime, tfjs-wasm),
 * then runs scripts/dev/diffusers-roundtrip.py, which loads the export with the real diffusers
 * code (`UNet2DModel.from_pretrained`, `DDIMScheduler.from_pretrained`), asserts that loading
 * reported no missing, unexpected or mismatched keys and logged no warning, and compares:
 *
 *   - ε at timesteps 0, 250, 600, 999 (4 inputs from core's seeded RNG): ≤ 1e-5;
 *   - a DDIM-10 run (η = 0): levelskip's `sample()` (seed 23) with `ddim` and the model's settings
 *     against DDIMScheduler from the exported scheduler_config.json, started from the x_T that
 *     sample() draws: reported with diffusers' own float32 spread of the run (1e-4 is the target).
 *
 * The result goes to test/diffusers/fixtures/roundtrip-result.json (committed; checked by
 * test/diffusers/diffusers-writer.test.ts). Needs the built packages (`pnpm build`), Debian's
 * python3-torch and the diffusers v0.31.0 source (see scripts/dev/diffusers-fixtures.py).
 *
 *   node scripts/dev/diffusers-roundtrip.mjs [--diffusers-src /work/diffusers-src/src] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPackage, repositoryRoot } from '../../bench/lib/workspace.mjs';

const { values: args } = parseArgs({ options: { 'diffusers-src': { type: 'string', default: '/work/diffusers-src/src' }, keep: { type: 'string' } } });

// The Node entry of core (loadCheckpoint, saveDiffusersModel), through the root's own dependency.
const core = await import('@levelskip/core');
const samplers = await loadPackage('samplers');
const { createOnnxBackend } = await loadPackage('backend-onnx');
const { createTfjsBackend } = await loadPackage('backend-tfjs');

// The shipped model; its folder moved from packages/pretrained/models/ to packages/model-mnist-full/.
const modelDir = [join(repositoryRoot, 'packages', 'model-mnist-full'), join(repositoryRoot, 'packages', 'pretrained', 'models', 'mnist-full')].find((dir) =>
  existsSync(join(dir, 'model.json')),
);
if (modelDir === undefined) throw new Error('mnist-full not found under packages/model-mnist-full or packages/pretrained/models/mnist-full');

const work = args.keep ?? mkdtempSync(join(tmpdir(), 'levelskip-roundtrip-'));
const exportDir = join(work, 'mnist-full-diffusers');
try {
  const checkpoint = await core.loadCheckpoint(modelDir);
  const { spec, weights } = checkpoint;
  // What `levelskip export --format diffusers` writes for it: the recommended sampler's settings.
  const sampling = checkpoint.manifest.sampling;
  const scheduler = {
    noiseSchedule: { kind: 'linear', trainTimesteps: spec.trainTimesteps },
    className: sampling?.sampler === 'ddim' ? 'DDIMScheduler' : 'DDPMScheduler',
    clipSample: sampling?.clip ?? false,
  };
  const saved = await core.saveDiffusersModel(exportDir, { spec, weights, scheduler });

  const batch = 4;
  const shape = [batch, spec.inChannels, spec.imageSize, spec.imageSize];
  const size = shape.reduce((a, b) => a * b, 1);
  const timesteps = [0, 250, 600, 999];
  const x = new core.SeededRng(7, 0).normal(size);
  // sample()'s x_T for seed 23 (stream 0 of core's SeededRng), which diffusers starts from too.
  const seed = 23;
  const noiseShape = [batch / 2, ...shape.slice(1)];
  const noise = new core.SeededRng(seed, 0).normal(size / 2);
  const ddimSteps = 10;
  const sampler = samplers.ddim({
    steps: ddimSteps,
    eta: 0,
    noiseSchedule: core.linearBetaSchedule({ trainTimesteps: spec.trainTimesteps }),
    clipSample: scheduler.clipSample,
  });

  const levelskip = {};
  for (const [name, create] of [
    ['onnx', () => createOnnxBackend()],
    ['tfjs-wasm', () => createTfjsBackend({ engine: 'wasm' })],
  ]) {
    const backend = await create();
    const model = await backend.createDenoiser(spec, weights);
    const ops = model.ops;
    const input = ops.fromFloat32(x, shape);
    const out = await model.predict(input, timesteps);
    const eps = await ops.toFloat32(out);
    ops.dispose([input, out]);
    const { images: final, timesteps: ddimTimesteps } = await samplers.sample({ denoiser: model, sampler, seed, batch: noiseShape[0] });
    model.dispose();
    backend.dispose();
    levelskip[name] = { eps: Array.from(eps), ddimFinal: Array.from(final), ddimTimesteps };
  }

  const job = join(work, 'job.json');
  writeFileSync(
    job,
    JSON.stringify({
      exportDir,
      files: saved.files,
      model: { name: 'mnist-full', directory: modelDir.slice(repositoryRoot.length), parameters: [...weights.values()].reduce((n, t) => n + t.data.length, 0) },
      eps: { shape, timesteps, x: Array.from(x) },
      ddim: { shape: noiseShape, steps: ddimSteps, eta: 0, noise: Array.from(noise) },
      levelskip,
    }),
  );
  const out = join(repositoryRoot, 'test', 'diffusers', 'fixtures', 'roundtrip-result.json');
  execFileSync('/usr/bin/python3', [join(repositoryRoot, 'scripts', 'dev', 'diffusers-roundtrip.py'), '--job', job, '--out', out, '--diffusers-src', args['diffusers-src']], {
    stdio: 'inherit',
  });
} finally {
  if (args.keep === undefined) rmSync(work, { recursive: true, force: true });
}
