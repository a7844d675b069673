/**
 * levelskip against the real 🤗 diffusers code. Every directory under fixtures/ was written by
 * diffusers v0.31.0's own save_pretrained (scripts/dev/diffusers-fixtures.py, torch 1.13; one
 * file afterwards given the deprecated attention names, as old Hub checkpoints have them), and
 * fixtures/expected/ holds what diffusers computed with the directory loaded back by its own
 * from_pretrained. levelskip loads each directory with `loadCheckpoint` (no Python anywhere) and
 * must reproduce, on both backends (ONNX Runtime, tfjs with the wasm engine):
 *
 *   - ε = unet(x, t) for fixed inputs and timesteps 0, 1, 417, 999: ≤ 1e-5;
 *   - a DDIM-10 run (η = 0) of levelskip's public `sample()` with the run's seed, whose x_T the
 *     fixture script drew with core's SeededRng and gave diffusers (each run well-conditioned:
 *     diffusers in float32 and in float64 agree to its recorded `float32Spread`, < 1e-4 / 3), with the DDIMScheduler settings of the
 *     run translated by levelskip's scheduler-config reader (the pipeline's own
 *     scheduler_config.json for the pipeline directory): the same timestep list as diffusers'
 *     `set_timesteps`, and the final image ≤ 1e-4; for the pipeline, DDPMPipeline's output image
 *     ((x / 2 + 0.5) clamped to [0, 1], NHWC) too.
 *
 * Set DIFFUSERS_PARITY_REPORT=<file.json> to write every measured difference there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadCheckpoint,
  noiseScheduleFromConfig,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  safetensorsLengthFieldBytes,
  schedulerFromDiffusersConfig,
  SeededRng,
  type Denoiser,
  type HostTensor,
  type LoadedCheckpoint,
  type NoiseScheduleConfig,
  type RecommendedSampling,
} from '@levelskip/core';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { ddim, sample, type PredictionType, type Sampler } from '@levelskip/samplers';

const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface DdimRun {
  readonly scheduler: Record<string, unknown> & { readonly _class_name: string };
  readonly steps: number;
  readonly eta: number;
  readonly timesteps: number[];
  /** `sample()`'s seed; `noise` holds the x_T it draws (stream 0 of SeededRng(seed)). */
  readonly seed: number;
  readonly noise: string;
  readonly final: string;
  /** max |diffusers float32 − diffusers float64| of this run: the rounding noise any float32 implementation has. */
  readonly float32Spread: number;
  readonly pipeline?: { readonly seed: number; readonly image: string; readonly layout: 'NHWC' };
}

interface Fixture {
  readonly name: string;
  readonly directory: string;
  readonly kind: 'unet' | 'pipeline';
  readonly files: string[];
  readonly storage: 'safetensors' | 'deprecated-attention' | 'bin' | 'fp16' | 'pipeline';
  readonly parameters: number;
  readonly expected: string;
  readonly eps: { readonly timesteps: number[]; readonly input: string; readonly output: string };
  readonly ddim: DdimRun[];
}

const manifest = JSON.parse(readFileSync(join(fixturesDir, 'fixtures.json'), 'utf8')) as { diffusers: { tag: string }; fixtures: Fixture[] };
const fixtures = manifest.fixtures;

const epsTolerance = 1e-5;
const ddimTolerance = 1e-4;

type BackendName = 'onnx' | 'tfjs-wasm';
interface AnyBackend {
  createDenoiser(spec: LoadedCheckpoint['spec'], weights: LoadedCheckpoint['weights']): Promise<Denoiser<unknown>>;
  dispose(): void;
}
const backends = new Map<BackendName, AnyBackend>();
const checkpoints = new Map<string, LoadedCheckpoint>();
const report: Record<string, Record<string, number>> = {};

function record(fixture: string, what: string, value: number): void {
  (report[fixture] ??= {})[what] = value;
}

beforeAll(async () => {
  backends.set('onnx', (await createOnnxBackend()) as unknown as AnyBackend);
  backends.set('tfjs-wasm', (await createTfjsBackend({ engine: 'wasm' })) as unknown as AnyBackend);
});

afterAll(() => {
  for (const backend of backends.values()) backend.dispose();
  const out = process.env['DIFFUSERS_PARITY_REPORT'];
  if (out) writeFileSync(out, `${JSON.stringify({ diffusers: manifest.diffusers, maxAbsDiff: report }, null, 2)}\n`);
});

function expectedTensors(fixture: Fixture): Map<string, HostTensor> {
  return parseSafetensors(new Uint8Array(readFileSync(join(fixturesDir, fixture.expected)))).tensors as Map<string, HostTensor>;
}

function tensor(tensors: Map<string, HostTensor>, name: string): HostTensor {
  const found = tensors.get(name);
  if (found === undefined) throw new Error(`fixture tensor ${name} is missing`);
  return found;
}

async function checkpointOf(fixture: Fixture): Promise<LoadedCheckpoint> {
  let checkpoint = checkpoints.get(fixture.name);
  if (checkpoint === undefined) {
    checkpoint = await loadCheckpoint(join(fixturesDir, fixture.directory));
    checkpoints.set(fixture.name, checkpoint);
  }
  return checkpoint;
}

function maxAbsDiff(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

/** The sampler settings a run uses: the pipeline's from its own directory, else the run's scheduler config. */
function runSettings(fixture: Fixture, run: DdimRun, checkpoint: LoadedCheckpoint): { sampling: RecommendedSampling; noiseSchedule: NoiseScheduleConfig } {
  if (fixture.kind === 'pipeline') {
    const sampling = checkpoint.manifest.sampling;
    const noiseSchedule = checkpoint.manifest.training?.['noiseSchedule'] as NoiseScheduleConfig | undefined;
    if (sampling === undefined || noiseSchedule === undefined) throw new Error(`${fixture.name}: the loaded pipeline has no sampling settings or noise schedule`);
    return { sampling, noiseSchedule };
  }
  const translated = schedulerFromDiffusersConfig(run.scheduler, { source: `${fixture.name} DDIM run` });
  return { sampling: translated.sampling, noiseSchedule: translated.noiseSchedule };
}

function samplerFor(fixture: Fixture, run: DdimRun, checkpoint: LoadedCheckpoint): { sampler: Sampler; prediction: PredictionType } {
  const { sampling, noiseSchedule } = runSettings(fixture, run, checkpoint);
  expect(sampling.sampler).toBe('ddim');
  const sampler = ddim({
    steps: run.steps,
    eta: run.eta,
    noiseSchedule: noiseScheduleFromConfig(noiseSchedule),
    ...(sampling.timestepSpacing === undefined ? {} : { timestepSpacing: sampling.timestepSpacing }),
    ...(sampling.stepsOffset === undefined ? {} : { stepsOffset: sampling.stepsOffset }),
    clipSample: sampling.clip ?? false,
    ...(sampling.clipSampleRange === undefined ? {} : { clipSampleRange: sampling.clipSampleRange }),
  });
  return { sampler, prediction: sampling.prediction ?? 'epsilon' };
}

describe(`diffusers ${manifest.diffusers.tag} fixtures`, () => {
  it('cover every storage form and both directory layouts', () => {
    expect(new Set(fixtures.map((f) => f.storage))).toEqual(new Set(['safetensors', 'deprecated-attention', 'bin', 'fp16', 'pipeline']));
    for (const fixture of fixtures) {
      expect(fixture.parameters).toBeGreaterThan(50_000);
      expect(fixture.parameters).toBeLessThan(300_000);
    }
  });

  it('the deprecated-names fixture really stores query/key/value/proj_attn (and no to_q…)', () => {
    const fixture = fixtures.find((f) => f.storage === 'deprecated-attention')!;
    const bytes = new Uint8Array(readFileSync(join(fixturesDir, fixture.directory, 'diffusion_pytorch_model.safetensors')));
    const headerLength = readSafetensorsHeaderLength(bytes.subarray(0, safetensorsLengthFieldBytes), bytes.length);
    const names = parseSafetensorsHeader(bytes.subarray(0, safetensorsLengthFieldBytes + headerLength), bytes.length).entries.map((e) => e.name);
    const attention = names.filter((name) => name.includes('.attentions.'));
    for (const old of ['query', 'key', 'value', 'proj_attn']) expect(attention.some((name) => name.includes(`.${old}.`))).toBe(true);
    expect(attention.some((name) => /\.to_(q|k|v|out)\./.test(name))).toBe(false);
  });
});

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
  it('loads with loadCheckpoint: the spec has diffusers\' parameter count', async () => {
    const checkpoint = await checkpointOf(fixture);
    let count = 0;
    for (const t of checkpoint.weights.values()) count += t.data.length;
    expect(count).toBe(fixture.parameters);
  });

  describe.each(['onnx', 'tfjs-wasm'] as const)('on %s', (backendName) => {
    let model: Denoiser<unknown>;
    let expected: Map<string, HostTensor>;

    beforeAll(async () => {
      const checkpoint = await checkpointOf(fixture);
      model = await backends.get(backendName)!.createDenoiser(checkpoint.spec, checkpoint.weights);
      expected = expectedTensors(fixture);
    });
    afterAll(() => model?.dispose());

    it(`reproduces ε at t = ${fixture.eps.timesteps.join(', ')} to ≤ ${epsTolerance}`, async () => {
      const input = tensor(expected, fixture.eps.input);
      const ops = model.ops;
      const x = ops.fromFloat32(input.data, input.shape);
      const out = await model.predict(x, fixture.eps.timesteps);
      const eps = await ops.toFloat32(out);
      ops.dispose([x, out]);
      const diff = maxAbsDiff(eps, tensor(expected, fixture.eps.output).data);
      record(fixture.name, `eps ${backendName}`, diff);
      expect(diff).toBeLessThanOrEqual(epsTolerance);
    });

    it.each(fixture.ddim.map((run, i) => [i, run] as const))(`reproduces DDIM-10 run %i's final image to ≤ ${ddimTolerance}`, async (i, run) => {
      // The run is well-conditioned: float32 rounding alone moves it far less than the tolerance.
      expect(run.float32Spread).toBeLessThan(ddimTolerance / 3);
      const checkpoint = await checkpointOf(fixture);
      const { sampler, prediction } = samplerFor(fixture, run, checkpoint);
      // levelskip's timestep list is diffusers' set_timesteps list for the same settings.
      expect([...sampler.timesteps]).toEqual(run.timesteps);
      // The fixture's x_T is what sample() draws for the seed.
      const noise = tensor(expected, run.noise);
      expect(new SeededRng(run.seed, 0).normal(noise.data.length)).toEqual(noise.data);
      const { images: final } = await sample({ denoiser: model, sampler, seed: run.seed, batch: noise.shape[0]!, prediction });
      const diff = maxAbsDiff(final, tensor(expected, run.final).data);
      record(fixture.name, `ddim ${i} ${backendName}`, diff);
      expect(diff).toBeLessThanOrEqual(ddimTolerance);
      if (run.pipeline !== undefined) {
        // DDPMPipeline's output: (x / 2 + 0.5) clamped to [0, 1], NHWC.
        const [b, c, h, w] = tensor(expected, run.final).shape as [number, number, number, number];
        const image = new Float32Array(final.length);
        for (let n = 0; n < b; n++)
          for (let ch = 0; ch < c; ch++)
            for (let y = 0; y < h; y++)
              for (let xx = 0; xx < w; xx++) {
                const v = final[((n * c + ch) * h + y) * w + xx]! / 2 + 0.5;
                image[((n * h + y) * w + xx) * c + ch] = Math.min(1, Math.max(0, v));
              }
        const imageDiff = maxAbsDiff(image, tensor(expected, run.pipeline.image).data);
        record(fixture.name, `pipeline image ${backendName}`, imageDiff);
        expect(imageDiff).toBeLessThanOrEqual(ddimTolerance);
      }
    });
  });
});
