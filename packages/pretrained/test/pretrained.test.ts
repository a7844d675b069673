/**
 * The catalogue, the errors, and the shipped weights themselves: every available model must load
 * through core's reader, carry its training record, and actually denoise real digits (its ε
 * prediction on noised MNIST test digits beats the trivial predictor by a wide margin), at full
 * depth and at the depth its skip schedule uses. The float64 reference backend runs the model, so
 * this checks the files, not a backend.
 */
import { LevelskipError, SeededRng, linearBetaSchedule, parameterCount, parseFill, parseUNetSpec, powerSchedule, presets } from '@levelskip/core';
import { createReferenceBackend } from '@levelskip/core/testing';
import { loadMnist } from '@levelskip/datasets';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue, listPretrained, loadPretrained, pretrainedDirectory, pretrainedModelNames } from '../src/index.js';
import type { PretrainedInfo } from '../src/index.js';

const available = listPretrained().filter((m): m is PretrainedInfo => m.available);

describe('catalogue', () => {
  it('names every model the issue asks for, each in its own package @levelskip/model-<name>', () => {
    expect(pretrainedModelNames).toEqual(expect.arrayContaining(['mnist-zero-c2', 'mnist-full', 'mnist-interpolate']));
    for (const entry of catalogue) {
      expect(entry.packageName).toBe(`@levelskip/model-${entry.name}`);
      const directory = pretrainedDirectory(entry.name);
      expect(directory).toMatch(new RegExp(`[/\\\\]model-${entry.name}$`));
      expect(JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'))).toMatchObject({ name: entry.packageName, files: expect.arrayContaining(['model.json', 'model.safetensors']) });
    }
  });

  it('rejects an unknown name with CHECKPOINT_MISSING, listing the models', async () => {
    const error = await loadPretrained('mnist-typo').catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('CHECKPOINT_MISSING');
    expect((error as Error).message).toContain('mnist-zero-c2');
    expect(() => pretrainedDirectory('mnist-typo')).toThrow(/Unknown pretrained model/);
  });

  it('matches the training recipes: fill, c and architecture of every catalogued model', async () => {
    // @ts-expect-error -- a plain .mjs script without type declarations
    const { recipes } = (await import('../scripts/recipes.mjs')) as {
      recipes: Record<string, { fill: string; c?: number; spec: object; experimental?: boolean; initFrom?: string }>;
    };
    // Experimental recipes (the quality issue's fine-tunes) are trained beside the catalogue, not shipped by it.
    expect(Object.keys(recipes).filter((name) => recipes[name]!.experimental !== true).sort()).toEqual([...pretrainedModelNames].sort());
    for (const [name, recipe] of Object.entries(recipes)) {
      if (recipe.initFrom !== undefined) expect(pretrainedModelNames, `${name}.initFrom`).toContain(recipe.initFrom);
    }
    for (const entry of catalogue) {
      const recipe = recipes[entry.name]!;
      expect(recipe.fill, entry.name).toBe(entry.fill);
      expect(recipe.c, entry.name).toBe(entry.c);
      expect(parseUNetSpec(recipe.spec), entry.name).toEqual(parseUNetSpec({ ...presets[entry.preset], sidePaths: entry.sidePaths }));
    }
  });

  it('ships mnist-zero-c2, the model the README and `pnpm start` use', () => {
    expect(available.map((m) => m.name)).toContain('mnist-zero-c2');
  });
});

describe.each(available.map((m) => [m.name]))('shipped model %s', (name) => {
  it('loads as fp16 with its catalogued architecture and a complete training record', async () => {
    const { spec, weights, manifest, info } = await loadPretrained(name);
    expect(manifest.dtype).toBe('F16');
    expect(spec).toEqual(parseUNetSpec({ ...presets[info.preset], sidePaths: info.sidePaths }));
    // Hand counts in core's tests (presets and presets-extra).
    const handCounts = { mnistSmall: 2_997_793, mnistMultistage: 4_721_803, mnistOde2: 671_537 };
    if (!spec.sidePaths) expect(parameterCount(spec)).toBe(handCounts[info.preset]);
    for (const [tensorName, tensor] of weights) {
      expect(tensor.data.every(Number.isFinite), tensorName).toBe(true);
    }
    const training = info.training ?? {};
    for (const field of ['scheme', 'steps', 'batchSize', 'seed', 'durationMs', 'finalLoss', 'lr', 'command']) {
      expect(training, field).toHaveProperty(field);
    }
    expect(training['fill']).toBe(info.fill);
  });

  it('predicts the noise of noised real test digits far better than chance, at each depth its schedule uses', async () => {
    const { spec, weights, info } = await loadPretrained(name);
    const digits = await loadMnist({ split: 'test', count: 4 });
    const schedule = linearBetaSchedule({ trainTimesteps: spec.trainTimesteps });
    // (t, k) pairs the model was trained on. Power schedule c = 2, eq. 1: k(t/T) = min(3, ⌊4 − 4(1 − t/T)^2⌋)
    // gives k = 0 at t = 100 (⌊0.76⌋), 2 at t = 300 (⌊2.04⌋), 3 at t = 600 (⌊3.36⌋).
    const cases: [number, number][] =
      info.c !== undefined ? [[100, 0], [300, 2], [600, 3]] : spec.sidePaths ? [[100, 0], [300, 2], [600, 3]] : [[100, 0], [300, 0], [600, 0]];
    if (info.c !== undefined) {
      expect(cases.map(([t]) => powerSchedule({ c: info.c! }).kAt(t / spec.trainTimesteps, 4))).toEqual(cases.map(([, k]) => k));
    }
    const backend = createReferenceBackend();
    const denoiser = await backend.createDenoiser(spec, weights);
    for (const [t, k] of cases) {
      const alphaBar = schedule.alphasCumprod[t]!;
      const noise = new SeededRng(t).normal(digits.images.length);
      const x = digits.images.map((v, i) => Math.sqrt(alphaBar) * v + Math.sqrt(1 - alphaBar) * noise[i]!);
      const prediction = await backend.ops.toFloat32(
        await denoiser.predict(backend.ops.fromFloat32(x, digits.shape), t, { k, fill: parseFill(info.fill) }),
      );
      let mse = 0;
      for (let i = 0; i < prediction.length; i++) mse += (prediction[i]! - noise[i]!) ** 2;
      mse /= prediction.length;
      // Predicting ε = 0 scores E[ε²] = 1; an untrained network scores about that or worse.
      expect(mse, `t = ${t}, k = ${k}`).toBeLessThan(0.25);
    }
    denoiser.dispose();
  });
});
