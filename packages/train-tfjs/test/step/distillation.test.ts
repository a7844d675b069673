/**
 * Knowledge distillation in `train({ teacher })` on tiny U-Nets (core's fixture specs) on the wasm
 * engine: the loss against the float64 reference backend, exact zeros when the teacher is the
 * student, gradients only where k reaches, exact resume (one thread and worker threads), refusal
 * to resume with another teacher, and option errors.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LevelskipError,
  SeededRng,
  customSchedule,
  describeArchitecture,
  linearBetaSchedule,
  parameterLayout,
  parseUNetSpec,
  powerSchedule,
  randomWeights,
  zeroFill,
  type NamedTensors,
  type UNetSpec,
} from '@levelskip/core';
import { createReferenceBackend, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { selectEngine, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { createTeacher, disposeTeacher } from '../../src/step/distillation.js';
import { planTraining, type TrainOptions, type TrainProgress } from '../../src/train/train-options.js';
import { train } from '../../src/train/train.js';
import { computeGradients, createModelState, disposeModelState, noiseBatch, type LossContext } from '../../src/step/training-step.js';
import { liveTrainingWorkerCount } from '../../src/parallel/training-workers.js';
import { useSourceTrainingWorker } from '../helpers/source-worker.js';
import { levelskipErrorOf as thrown } from '@levelskip/core/testing';
import { randomImages } from '../helpers/random-images.js';

// No dropout: the student's training-mode forward is then the same function as the teacher's.
const spec = parseUNetSpec(tinySpecs.resnet);
// Dropout on, so that resuming must also restore the dropout seeds' stream.
const dropoutSpec = parseUNetSpec({ ...tinySpecs.resnet, dropout: 0.1 });
const SIZE = spec.inChannels * spec.imageSize * spec.imageSize;

function dataset(count: number, seed = 5): ReturnType<typeof randomImages> {
  return randomImages(spec, count, seed);
}

/** A teacher that is not the student: other random weights of the same spec. */
const otherTeacher = (mix: number): NonNullable<TrainOptions['teacher']> => ({ weights: fixtureWeights(spec, 11), mix });

const base = (): TrainOptions => ({ spec, data: dataset(6), batchSize: 4, lr: 2e-3, ema: 0.9, engine: 'wasm', seed: 7 });

function expectSameWeights(a: NamedTensors, b: NamedTensors): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, tensor] of a) expect(b.get(name)!.data, name).toEqual(tensor.data);
}

const changed = (a: NamedTensors, b: NamedTensors, name: string): boolean => a.get(name)!.data.some((v, i) => v !== b.get(name)!.data[i]);

async function rejection(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!LevelskipError.is(error)) throw new Error(`expected a LevelskipError, got ${String(error)}`);
  return error;
}

/** A loss context over `weights` of `spec` on the wasm engine, with an optional teacher; `dispose` frees both. */
function lossContext(weights: NamedTensors, teacher?: { spec: UNetSpec; weights: NamedTensors; mix: number }): { context: LossContext; dispose: () => void } {
  const names = parameterLayout(spec).map((entry) => entry.name);
  const state = createModelState(names, weights, weights);
  const model = teacher === undefined ? undefined : createTeacher(teacher.spec, teacher.weights, teacher.mix);
  const context: LossContext = {
    arch: describeArchitecture(spec),
    ops: createTfjsTensorOps('wasm'),
    names,
    params: state.params,
    fill: zeroFill,
    imageShape: [spec.inChannels, spec.imageSize, spec.imageSize],
    teacher: model,
  };
  return {
    context,
    dispose: () => {
      disposeModelState(state);
      if (model !== undefined) disposeTeacher(model);
    },
  };
}

/** A noised batch: NCHW x_t and ε for the reference (x_t rounded to float32 as the trainer does) and the trainer's NHWC batch. */
function noisedBatch(timesteps: number[], seed: number) {
  const schedule = linearBetaSchedule();
  const rng = new SeededRng(seed);
  const count = timesteps.length;
  const images = rng.uniform(count * SIZE).map((v) => 2 * v - 1);
  const noise = rng.normal(count * SIZE);
  const noisy = new Float32Array(count * SIZE);
  for (let b = 0; b < count; b++) {
    const t = timesteps[b]!;
    for (let i = b * SIZE; i < (b + 1) * SIZE; i++) noisy[i] = schedule.sqrtAlphasCumprod[t]! * images[i]! + schedule.sqrtOneMinusAlphasCumprod[t]! * noise[i]!;
  }
  return { noisy, noise, batch: noiseBatch(images, noise, timesteps, [spec.inChannels, spec.imageSize, spec.imageSize], schedule) };
}

/** Float64 reference predictions, one sample per call (so a multi-decoder teacher needs no stage split). */
async function referencePredictions(input: UNetSpec, weights: NamedTensors, noisy: Float32Array, timesteps: number[], k: number): Promise<Float64Array> {
  const backend = createReferenceBackend();
  const denoiser = await backend.createDenoiser(input, weights);
  const out = new Float64Array(noisy.length);
  for (let b = 0; b < timesteps.length; b++) {
    const x = backend.ops.fromFloat32(noisy.subarray(b * SIZE, (b + 1) * SIZE), [1, input.inChannels, input.imageSize, input.imageSize]);
    const prediction = await denoiser.predict(x, [timesteps[b]!], { k, fill: zeroFill });
    out.set(prediction.data, b * SIZE);
  }
  return out;
}

const meanSquaredDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum / a.length;
};

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  await selectEngine('wasm');
  cleanup = await useSourceTrainingWorker();
  root = await mkdtemp(join(tmpdir(), 'levelskip-distill-'));
});
afterAll(async () => {
  await cleanup();
  await rm(root, { recursive: true, force: true });
});

describe('the distillation loss', () => {
  it('is (1 − m) · mean ‖ε_s − ε_T‖² + m · mean ‖ε_s − ε‖², as the float64 reference computes it (student at k = 1, multi-decoder teacher at k = 0)', async () => {
    // The teacher has another architecture (side paths, two decoders) and interleaved stages, so its
    // batch is split by stage and put back in order; the reference runs one sample at a time.
    const teacherSpec = parseUNetSpec(tinySpecs.multiDecoder);
    const teacherWeights = fixtureWeights(teacherSpec, 12);
    const studentWeights = fixtureWeights(spec, 4);
    const timesteps = [100, 700, 300, 950, 20];
    const { noisy, noise, batch } = noisedBatch(timesteps, 21);
    const student = await referencePredictions(spec, studentWeights, noisy, timesteps, 1);
    const teacher = await referencePredictions(teacherSpec, teacherWeights, noisy, timesteps, 0);
    const distillation = meanSquaredDifference(student, teacher);
    const eps = meanSquaredDifference(student, noise);
    expect(distillation).toBeGreaterThan(0.01);

    const { context, dispose } = lossContext(studentWeights, { spec: teacherSpec, weights: teacherWeights, mix: 0.3 });
    try {
      const gradients = computeGradients(context, batch, 1, 0);
      const [loss, d, e] = [gradients.loss, gradients.terms!.distillation, gradients.terms!.eps].map((t) => t.dataSync()[0]!);
      tf.dispose([gradients.loss, ...gradients.grads, gradients.terms!.distillation, gradients.terms!.eps]);
      // float32 (tfjs) against float64 (reference) on a tiny net.
      expect(Math.abs(d! - distillation) / distillation).toBeLessThan(1e-4);
      expect(Math.abs(e! - eps) / eps).toBeLessThan(1e-4);
      const expected = 0.7 * distillation + 0.3 * eps;
      expect(Math.abs(loss! - expected) / expected).toBeLessThan(1e-4);
    } finally {
      dispose();
    }
  });

  it('is exactly 0, with exactly zero gradients, when the teacher is the student itself at k = 0 (mix 0)', async () => {
    const weights = fixtureWeights(spec, 4);
    const { batch } = noisedBatch([5, 400, 999], 3);
    const { context, dispose } = lossContext(weights, { spec, weights, mix: 0 });
    try {
      const gradients = computeGradients(context, batch, 0, 0);
      expect(gradients.loss.dataSync()[0]).toBe(0);
      expect(gradients.terms!.distillation.dataSync()[0]).toBe(0);
      // The ε term is still measured (mix 0 only weights it out of the loss).
      expect(gradients.terms!.eps.dataSync()[0]).toBeGreaterThan(0.1);
      // At k = 0 every parameter is reached, and every gradient is exactly 0.
      expect(gradients.names).toEqual(context.names);
      gradients.grads.forEach((grad, i) => expect(grad.dataSync().every((g) => g === 0), gradients.names[i]).toBe(true));
      tf.dispose([gradients.loss, ...gradients.grads, gradients.terms!.distillation, gradients.terms!.eps]);
    } finally {
      dispose();
    }
  });

  it('train(): a teacher equal to the initial weights, scheme full, mix 0 gives loss 0 and leaves the weights exactly alone', async () => {
    const progress: TrainProgress[] = [];
    const initial = randomWeights(spec, { seed: 7 });
    const result = await train({ ...base(), steps: 2, scheme: 'full', teacher: { weights: initial }, onProgress: (p) => void progress.push(p) });
    expect(result.losses).toEqual([0, 0]);
    expect(result.lossTerms!.distillation).toEqual([0, 0]);
    expect(progress.map((p) => [p.loss, p.distillationLoss, p.gradNorm])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(progress.every((p) => p.epsLoss! > 0.1)).toBe(true);
    // Adam with zero gradients moves nothing: the raw weights stay the initial ones, bit for bit (the
    // EMA d·θ + (1 − d)·θ of unchanged weights is θ only up to float32 rounding).
    expectSameWeights(result.rawWeights, initial);
  });
});

describe('gradients', () => {
  it('reach exactly the parameters the plain loss reaches at k, never the skipped levels, though the teacher (the same weights) runs them', async () => {
    const weights = fixtureWeights(spec, 4);
    const { batch } = noisedBatch([5, 400, 999], 3);
    const plain = lossContext(weights);
    // Teacher = the student's own tensors' values: if its forward ran on the student's variables,
    // the deep levels it runs would get gradients.
    const distilled = lossContext(weights, { spec, weights, mix: 0.5 });
    try {
      for (const k of [1, 2]) {
        const reference = computeGradients(plain.context, batch, k, 0);
        const gradients = computeGradients(distilled.context, batch, k, 0);
        expect(gradients.names, `k = ${k}`).toEqual(reference.names);
        expect(gradients.names.some((name) => name.startsWith('mid_block.'))).toBe(false);
        expect(gradients.names.some((name) => name.startsWith('down_blocks.2.'))).toBe(false);
        expect(gradients.names).toContain('down_blocks.0.resnets.0.conv1.weight');
        tf.dispose([reference.loss, ...reference.grads, gradients.loss, ...gradients.grads, gradients.terms!.distillation, gradients.terms!.eps]);
      }
    } finally {
      plain.dispose();
      distilled.dispose();
    }
  });

  it('train() at constant k = 2 leaves every parameter of the skipped levels bit for bit at its initial value', async () => {
    const result = await train({ ...base(), steps: 3, scheme: 'schedule-aware', schedule: customSchedule(() => 2, 'k = 2'), teacher: otherTeacher(0.5) });
    const initial = randomWeights(spec, { seed: 7 });
    const { context, dispose } = lossContext(initial);
    let used: string[];
    try {
      const gradients = computeGradients(context, noisedBatch([5, 400], 3).batch, 2, 0);
      used = gradients.names;
      tf.dispose([gradients.loss, ...gradients.grads]);
    } finally {
      dispose();
    }
    const skipped = [...initial.keys()].filter((name) => !used.includes(name));
    expect(skipped.filter((name) => name.startsWith('mid_block.')).length).toBeGreaterThan(0);
    for (const name of skipped) expect(changed(result.rawWeights, initial, name), name).toBe(false);
    expect(changed(result.rawWeights, initial, 'down_blocks.0.resnets.0.conv1.weight')).toBe(true);
    expect(changed(result.rawWeights, initial, 'conv_out.weight')).toBe(true);
  });
});

describe('train({ teacher })', () => {
  it('with mix 1 is the plain ε run bit for bit, and reports both terms of every step', async () => {
    const options = { ...base(), steps: 3, scheme: 'uniform' as const };
    const plain = await train(options);
    const progress: TrainProgress[] = [];
    const mixed = await train({ ...options, teacher: otherTeacher(1), onProgress: (p) => void progress.push(p) });
    expect(mixed.losses).toEqual(plain.losses);
    expectSameWeights(mixed.rawWeights, plain.rawWeights);
    expect(mixed.lossTerms!.eps).toEqual(plain.losses);
    expect(mixed.lossTerms!.distillation.every((d) => d > 0)).toBe(true);
    expect(plain.lossTerms).toBeUndefined();
    expect(progress.map((p) => p.distillationLoss)).toEqual(mixed.lossTerms!.distillation);
  });

  it('optimises (1 − m) · distillation + m · ε-MSE and keeps the number of live tensors constant, teacher disposed at the end', async () => {
    const before = tf.memory().numTensors;
    const live: number[] = [];
    const result = await train({ ...base(), steps: 4, teacher: otherTeacher(0.25), onProgress: () => void live.push(tf.memory().numTensors) });
    result.losses.forEach((loss, i) => {
      const expected = 0.75 * result.lossTerms!.distillation[i]! + 0.25 * result.lossTerms!.eps[i]!;
      expect(Math.abs(loss - expected)).toBeLessThan(1e-6 * expected);
    });
    expect(live[3]).toBe(live[1]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('resume with a teacher', () => {
  const options = (): TrainOptions => ({
    ...base(),
    spec: dropoutSpec,
    scheme: 'schedule-aware',
    schedule: powerSchedule({ c: 2 }),
    warmup: 2,
    teacher: { spec, weights: fixtureWeights(spec, 11), mix: 0.5 },
  });

  it('S + S steps with a resume equal 2S steps in one go, exactly, and the checkpoint records the teacher', async () => {
    const dir = join(root, 'resume');
    const whole = await train({ ...options(), steps: 4 });
    await train({ ...options(), steps: 2, checkpointDir: dir, checkpointEvery: 2 });
    const second = await train({ ...options(), steps: 4, checkpointDir: dir, checkpointEvery: 2, resume: true });
    expect(second.stats.startStep).toBe(2);
    expectSameWeights(second.rawWeights, whole.rawWeights);
    expectSameWeights(second.weights, whole.weights);
    expect(second.losses).toEqual(whole.losses);
    expect(second.lossTerms).toEqual(whole.lossTerms);
    const state = JSON.parse(await readFile(join(dir, 'step-0000004', 'training-state.json'), 'utf8')) as { formatVersion: number; identity: { teacher: string; teacherMix: number } };
    expect(state.formatVersion).toBe(2);
    expect(state.identity.teacher).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(state.identity.teacherMix).toBe(0.5);
    const model = JSON.parse(await readFile(join(dir, 'step-0000004', 'model.json'), 'utf8')) as { training: Record<string, unknown> };
    expect(model.training['teacher']).toEqual({ fingerprint: state.identity.teacher, mix: 0.5 });
    expect(model.training['finalEpsLoss']).toBeCloseTo(whole.lossTerms!.eps[3]!, 6);
  });

  it('refuses to resume with another mix, other teacher weights or no teacher, naming the difference', async () => {
    const dir = join(root, 'refuse');
    await train({ ...options(), steps: 1, checkpointDir: dir });
    const again = (patch: Partial<TrainOptions>): Promise<LevelskipError> => rejection(train({ ...options(), ...patch, steps: 2, checkpointDir: dir, resume: true }));
    const mix = await again({ teacher: { spec, weights: fixtureWeights(spec, 11), mix: 0.25 } });
    expect([mix.code, mix.issues[0]?.path[0]]).toEqual(['INVALID_OPTION', 'resume']);
    expect(mix.message).toMatch(/teacherMix = 0\.5, but this call has teacherMix = 0\.25/);
    const weights = await again({ teacher: { spec, weights: fixtureWeights(spec, 12), mix: 0.5 } });
    expect(weights.message).toMatch(/written with teacher = "sha256:[0-9a-f]+", but this call has teacher = "sha256:[0-9a-f]+"/);
    expect(weights.message).toContain('initialWeights');
    const none = await again({ teacher: undefined });
    expect(none.message).toMatch(/but this call has teacher = undefined/);
    // And the other way round: a plain checkpoint does not resume as a distillation run.
    const plainDir = join(root, 'refuse-plain');
    await train({ ...options(), teacher: undefined, steps: 1, checkpointDir: plainDir });
    const added = await rejection(train({ ...options(), steps: 2, checkpointDir: plainDir, resume: true }));
    expect(added.message).toMatch(/written with teacher = undefined/);
  });

  it('with workers: 2 (each worker holding the teacher) trains like one thread and resumes exactly', async () => {
    const dir = join(root, 'workers');
    // batchSize 5 over 2 threads: shards of 3 and 2, so the worker computes real distillation terms.
    const parallel = (): TrainOptions => ({ ...options(), data: dataset(10), batchSize: 5, workers: 2 });
    // Without dropout (whose masks depend on the shard), one step on 2 threads has the terms of one
    // thread up to float32 summation order; a worker that ignored the teacher would be far off.
    const relative = (a: number, b: number): number => Math.abs(a - b) / b;
    const one = await train({ ...parallel(), spec, workers: 1, steps: 1 });
    const two = await train({ ...parallel(), spec, steps: 1 });
    expect(two.stats.workers).toBe(2);
    expect(relative(two.lossTerms!.distillation[0]!, one.lossTerms!.distillation[0]!)).toBeLessThan(1e-5);
    expect(relative(two.lossTerms!.eps[0]!, one.lossTerms!.eps[0]!)).toBeLessThan(1e-5);
    expect(relative(two.losses[0]!, one.losses[0]!)).toBeLessThan(1e-5);
    const whole = await train({ ...parallel(), steps: 4 });
    await train({ ...parallel(), steps: 2, checkpointDir: dir, checkpointEvery: 2 });
    const second = await train({ ...parallel(), steps: 4, checkpointDir: dir, resume: true });
    expect(second.stats.startStep).toBe(2);
    expectSameWeights(second.rawWeights, whole.rawWeights);
    expectSameWeights(second.weights, whole.weights);
    expect(second.losses).toEqual(whole.losses);
    expect(second.lossTerms).toEqual(whole.lossTerms);
    expect(liveTrainingWorkerCount()).toBe(0);
  });
});

describe('teacher options', () => {
  const valid: TrainOptions = { spec, data: dataset(3), steps: 1 };
  const weights = randomWeights(spec);

  it('defaults the teacher spec to the student spec and mix to 0, and accepts another architecture of the same images', () => {
    const plan = planTraining({ ...valid, teacher: { weights } });
    expect(plan.teacher!.spec).toEqual(spec);
    expect(plan.teacher!.mix).toBe(0);
    expect(planTraining(valid).teacher).toBeUndefined();
    const other = parseUNetSpec(tinySpecs.sidePaths);
    expect(planTraining({ ...valid, teacher: { spec: tinySpecs.sidePaths, weights: randomWeights(other), mix: 1 } }).teacher!.spec).toEqual(other);
  });

  const cases: [string, unknown, string, RegExp][] = [
    ['a number', 3, 'teacher', /must be an object \{ weights, spec\?, mix\? \}/],
    ['an unknown field', { weights, alpha: 0.5 }, 'teacher', /unknown field "alpha"/],
    ['no weights', { mix: 0.5 }, 'teacher.weights', /is required/],
    ['weights of another spec', { weights: randomWeights(parseUNetSpec(tinySpecs.sidePaths)) }, 'teacher.weights', /unexpected tensor[\s\S]*pass the teacher's own spec as teacher\.spec/],
    ['weights that do not fit teacher.spec', { spec: tinySpecs.sidePaths, weights }, 'teacher.weights', /missing tensor[\s\S]*Pass the weights saved with teacher\.spec/],
    ['a v-prediction teacher', { spec: { ...tinySpecs.resnet, prediction: 'v' }, weights }, 'teacher.spec', /predicts "v".*prediction "eps"/],
    ['an invalid teacher spec', { spec: { ...tinySpecs.resnet, imageSize: 6 }, weights }, 'teacher.spec', /imageSize[\s\S]*Pass the spec the teacher was trained with/],
    ['a teacher of another image size', { spec: { ...tinySpecs.resnet, imageSize: 16 }, weights }, 'teacher.spec', /imageSize = 16 but spec has imageSize = 8/],
    ['a teacher of other timesteps', { spec: { ...tinySpecs.resnet, trainTimesteps: 500 }, weights }, 'teacher.spec', /trainTimesteps = 500 but spec has trainTimesteps = 1000/],
    ['mix below 0', { weights, mix: -0.1 }, 'teacher.mix', /must be a number in \[0, 1\]/],
    ['mix above 1', { weights, mix: 1.5 }, 'teacher.mix', /must be a number in \[0, 1\]/],
    ['mix NaN', { weights, mix: Number.NaN }, 'teacher.mix', /must be a number in \[0, 1\]/],
    ['mix as a string', { weights, mix: '0.5' }, 'teacher.mix', /must be a number in \[0, 1\]/],
  ];
  for (const [name, teacher, field, message] of cases) {
    it(`rejects ${name} with INVALID_OPTION naming ${field}`, () => {
      const error = thrown(() => planTraining({ ...valid, teacher: teacher as never }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain(`train: ${field}`);
      expect(error.message).toMatch(message);
      expect(error.issues[0]?.path.slice(0, field.split('.').length)).toEqual(field.split('.'));
    });
  }
});
