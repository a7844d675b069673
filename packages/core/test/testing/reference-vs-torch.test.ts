/**
 * The float64 reference U-Net against an independent PyTorch implementation
 * (scripts/dev/torch-reference-unet.py, diffusers-style modules run in float64). The fixture
 * holds weights, inputs and expected ε for every k and fill; regenerate it with
 * `/usr/bin/python3 scripts/dev/torch-reference-unet.py`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostTensor, ResizeMode } from '../../src/backend/tensor-ops.js';
import { cacheFill, parseFill } from '../../src/fills/fill-registry.js';
import type { FillStrategy } from '../../src/fills/fill-strategy.js';
import type { UNetSpecInput } from '../../src/spec/unet-spec.js';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '../../src/testing/reference/index.js';

interface EncodedFloat32 {
  readonly shape: number[];
  readonly float32: string;
}
interface Run {
  readonly k: number;
  readonly fill: 'zero' | 'duplicate' | 'interpolate' | 'cache' | 'mean';
  readonly input: string;
  readonly timesteps: number[];
  readonly stage?: number;
  readonly warmup?: { readonly input: string; readonly timesteps: number[] };
  readonly output: { readonly shape: number[]; readonly data: number[] };
}
interface Case {
  readonly name: string;
  readonly spec: UNetSpecInput;
  readonly weights?: Record<string, EncodedFloat32>;
  readonly weightsFrom?: string;
  readonly inputs: Record<string, EncodedFloat32>;
  readonly runs: Run[];
}

interface OpRun {
  readonly op: 'resize' | 'avgPool';
  readonly input: string;
  readonly size?: [number, number];
  readonly mode?: ResizeMode;
  readonly window?: number;
  readonly stride?: number;
  readonly output: Run['output'];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch-reference.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  ops: { inputs: Record<string, EncodedFloat32>; cases: OpRun[] };
};

function decode(t: EncodedFloat32): HostTensor {
  const bytes = Buffer.from(t.float32, 'base64');
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const data = new Float32Array(new Uint8Array(bytes).buffer);
  expect(data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  return { shape: t.shape, data };
}

function weightsOf(c: Case): Map<string, HostTensor> {
  const source = c.weights ?? fixture.cases.find((other) => other.name === c.weightsFrom)?.weights;
  if (source === undefined) throw new Error(`case ${c.name} has no weights`);
  return new Map(Object.entries(source).map(([name, t]) => [name, decode(t)]));
}

/** Tolerance: float64 against float64, only summation order differs (observed ≈ 3e-15). */
const tolerance = 1e-12;

function maxDifference(actual: ReferenceTensor, expected: Run['output']): number {
  expect(actual.shape).toEqual(expected.shape);
  let worst = 0;
  expected.data.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual.data[i]! - e) / Math.max(1, Math.abs(e)));
  });
  return worst;
}

describe('reference U-Net vs PyTorch (float64)', () => {
  const backend = createReferenceBackend();
  expect(fixture.cases.length).toBeGreaterThanOrEqual(4);
  // Every built-in fill the reference U-Net defines is in the fixture (the cache through its warm-up runs).
  expect(new Set(fixture.cases.flatMap((c) => c.runs.map((r) => r.fill)))).toEqual(new Set(['zero', 'duplicate', 'interpolate', 'cache', 'mean']));

  for (const c of fixture.cases) {
    describe(c.name, () => {
      for (const run of c.runs) {
        const label = `k = ${run.k}, fill ${run.fill}, t = [${run.timesteps.join(', ')}]${run.stage === undefined ? '' : `, stage ${run.stage}`}`;
        it(label, async () => {
          const denoiser = await backend.createDenoiser(c.spec, weightsOf(c));
          const input = (name: string): ReferenceTensor => {
            const host = decode(c.inputs[name]!);
            return denoiser.ops.fromFloat32(host.data, host.shape);
          };
          const stage = run.stage === undefined ? {} : { stage: run.stage };
          let out: ReferenceTensor;
          if (run.fill === 'cache') {
            // The warm-up call finds the cache empty, runs at full depth and fills it.
            const cache = denoiser.createFeatureCache();
            await denoiser.predict(input(run.warmup!.input), run.warmup!.timesteps, { k: run.k, fill: cacheFill, cache, ...stage });
            out = await denoiser.predict(input(run.input), run.timesteps, { k: run.k, fill: cacheFill, cache, ...stage });
          } else {
            const fill = parseFill(run.fill) as FillStrategy<ReferenceTensor>;
            out = await denoiser.predict(input(run.input), run.timesteps, { k: run.k, fill, ...stage });
          }
          const diff = maxDifference(out, run.output);
          expect(diff).toBeLessThan(tolerance);
        });
      }
    });
  }
});

describe('reference resize and avgPool vs PyTorch', () => {
  expect(fixture.ops.cases.length).toBeGreaterThan(20);
  for (const run of fixture.ops.cases) {
    const input = decode(fixture.ops.inputs[run.input]!);
    const label =
      run.op === 'resize'
        ? `resize ${run.mode} [${input.shape.join(', ')}] → ${run.size!.join('×')}`
        : `avgPool window ${run.window} stride ${run.stride} on [${input.shape.join(', ')}]`;
    it(label, () => {
      const x = referenceOps.fromFloat32(input.data, input.shape);
      const out = run.op === 'resize' ? referenceOps.resize(x, run.size![0], run.size![1], run.mode!) : referenceOps.avgPool(x, run.window!, run.stride!);
      expect(maxDifference(out, run.output)).toBeLessThan(tolerance);
    });
  }
});
