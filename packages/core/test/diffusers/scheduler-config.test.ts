/**
 * diffusers scheduler_config.json → noise schedule and sampler settings. The β of each
 * beta_schedule are checked against closed forms computed here, independently of core's code:
 * diffusers v0.31.0 scheduling_ddpm.py builds them as
 *   linear             torch.linspace(beta_start, beta_end, T)
 *   scaled_linear      torch.linspace(beta_start ** 0.5, beta_end ** 0.5, T) ** 2
 *   squaredcos_cap_v2  betas_for_alpha_bar(T): β_i = min(1 − ᾱ((i+1)/T) / ᾱ(i/T), 0.999),
 *                      ᾱ(u) = cos((u + 0.008) / 1.008 · π/2) ** 2
 */
import { describe, expect, it } from 'vitest';
import { readDiffusersSchedulerConfig, schedulerFromDiffusersConfig } from '../../src/checkpoint/diffusers/scheduler-config.js';
import { serializeCheckpoint, parseCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { noiseScheduleFromConfig } from '../../src/noise/noise-schedule.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';
import { errorOf } from '../support/level-skip-errors.js';

const ddpm = { _class_name: 'DDPMScheduler', _diffusers_version: '0.31.0' };
const betasOf = (config: Record<string, unknown>): Float64Array => noiseScheduleFromConfig(schedulerFromDiffusersConfig(config).noiseSchedule).betas;

function maxRelativeError(actual: Float64Array, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  return Math.max(...expected.map((value, i) => Math.abs(actual[i]! - value) / value));
}

describe('noise schedules, against the closed forms', () => {
  it('linear: β_t = beta_start + t (beta_end − beta_start)/(T − 1)', () => {
    const T = 1000;
    const expected = Array.from({ length: T }, (_, t) => 1e-4 + (t * (0.02 - 1e-4)) / (T - 1));
    expect(maxRelativeError(betasOf({ ...ddpm, beta_schedule: 'linear' }), expected)).toBeLessThan(1e-12);
    // DDPM (Ho et al. 2020): β_1 = 1e-4, β_T = 0.02.
    const betas = betasOf({ ...ddpm });
    expect([betas[0], betas[999]]).toEqual([1e-4, 0.02]);
  });

  it('scaled_linear: β_t = (√beta_start + t (√beta_end − √beta_start)/(T − 1))²', () => {
    const T = 1000;
    const [a, b] = [Math.sqrt(0.00085), Math.sqrt(0.012)];
    const expected = Array.from({ length: T }, (_, t) => (a + (t * (b - a)) / (T - 1)) ** 2);
    const config = { ...ddpm, beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 };
    expect(schedulerFromDiffusersConfig(config).noiseSchedule).toEqual({ kind: 'scaled-linear', betaStart: 0.00085, betaEnd: 0.012, trainTimesteps: 1000 });
    expect(maxRelativeError(betasOf(config), expected)).toBeLessThan(1e-12);
    expect(betasOf(config)[0]).toBeCloseTo(0.00085, 15);
  });

  it('squaredcos_cap_v2: betas_for_alpha_bar with the cosine ᾱ, s = 0.008, capped at 0.999', () => {
    for (const T of [1000, 50]) {
      const alphaBar = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      const expected = Array.from({ length: T }, (_, i) => Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), 0.999));
      const betas = betasOf({ ...ddpm, beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: T });
      expect(maxRelativeError(betas, expected)).toBeLessThan(1e-12);
      // The cap binds at the last step: ᾱ(1) = cos²(π/2) ≈ 0, so 1 − ᾱ(1)/ᾱ(1 − 1/T) ≈ 1 > 0.999.
      expect(betas[T - 1]).toBe(0.999);
    }
  });

  it('trained_betas take precedence over beta_schedule, as in diffusers', () => {
    const trained = [0.001, 0.002, 0.004, 0.008];
    const translated = schedulerFromDiffusersConfig({ ...ddpm, num_train_timesteps: 4, beta_schedule: 'squaredcos_cap_v2', trained_betas: trained });
    expect(translated.noiseSchedule).toEqual({ kind: 'betas', betas: trained, trainTimesteps: 4 });
    expect([...noiseScheduleFromConfig(translated.noiseSchedule).betas]).toEqual(trained);
    expect(noiseScheduleFromConfig(translated.noiseSchedule).alphasCumprod[3]).toBeCloseTo(0.999 * 0.998 * 0.996 * 0.992, 15);
  });
});

describe("the noise schedules as model.json stores them (training.noiseSchedule)", () => {
  it('rebuild from their JSON to the same β', () => {
    for (const config of [
      { ...ddpm, beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 },
      { ...ddpm, beta_schedule: 'squaredcos_cap_v2' },
      { ...ddpm, num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.3] },
    ]) {
      const { noiseSchedule } = schedulerFromDiffusersConfig(config);
      const rebuilt = noiseScheduleFromConfig(JSON.parse(JSON.stringify(noiseSchedule)));
      expect(rebuilt.betas).toEqual(noiseScheduleFromConfig(noiseSchedule).betas);
      expect(noiseScheduleFromConfig(rebuilt.config).betas).toEqual(rebuilt.betas);
    }
  });

  it('refuse explicit betas whose count differs from trainTimesteps, and unknown fields', () => {
    expect(errorOf(() => noiseScheduleFromConfig({ kind: 'betas', betas: [0.1, 0.2], trainTimesteps: 3 })).message).toContain('trainTimesteps must be equal to the number of betas (2)');
    expect(errorOf(() => noiseScheduleFromConfig({ kind: 'scaled-linear', s: 0.1 } as never)).message).toContain('unknown field "s"');
  });
});

describe('sampler settings per scheduler class', () => {
  it("DDPMScheduler: ddpm over all T steps (DDPMPipeline's default), clip_sample on by default, fixed_small", () => {
    const translated = schedulerFromDiffusersConfig({ ...ddpm, num_train_timesteps: 1000 });
    expect(translated.className).toBe('DDPMScheduler');
    expect(translated.trainTimesteps).toBe(1000);
    expect(translated.sampling).toMatchObject({ sampler: 'ddpm', steps: 1000, clip: true, timestepSpacing: 'leading', varianceType: 'fixed_small' });
    expect(translated.sampling).not.toHaveProperty('prediction');
    expect(translated.sampling.note).toMatch(/^from diffusers DDPMScheduler \(scheduler_config\.json\), not measured by levelskip$/);
  });

  it("google/ddpm-cifar10-32's scheduler: fixed_large, clip", () => {
    const translated = schedulerFromDiffusersConfig({
      _class_name: 'DDPMScheduler',
      beta_end: 0.02,
      beta_schedule: 'linear',
      beta_start: 0.0001,
      clip_sample: true,
      num_train_timesteps: 1000,
      trained_betas: null,
      variance_type: 'fixed_large',
    });
    expect(translated.sampling).toMatchObject({ sampler: 'ddpm', clip: true, varianceType: 'fixed_large' });
    expect(translated.noiseSchedule).toEqual({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainTimesteps: 1000 });
  });

  it('the _log variances are the same σ_t', () => {
    expect(schedulerFromDiffusersConfig({ ...ddpm, variance_type: 'fixed_small_log' }).sampling.varianceType).toBe('fixed_small');
    expect(schedulerFromDiffusersConfig({ ...ddpm, variance_type: 'fixed_large_log' }).sampling.varianceType).toBe('fixed_large');
  });

  it("DDIMScheduler: ddim, 50 steps, η = 0 (DDIMPipeline's defaults); spacing, offset, clip range and prediction carry over", () => {
    const translated = schedulerFromDiffusersConfig({
      _class_name: 'DDIMScheduler',
      num_train_timesteps: 500,
      clip_sample: true,
      clip_sample_range: 2,
      steps_offset: 1,
      timestep_spacing: 'trailing',
      prediction_type: 'v_prediction',
      set_alpha_to_one: false,
    });
    expect(translated.trainTimesteps).toBe(500);
    expect(translated.sampling).toMatchObject({ sampler: 'ddim', steps: 50, eta: 0, clip: true, clipSampleRange: 2, stepsOffset: 1, timestepSpacing: 'trailing', prediction: 'v_prediction' });
    expect(translated.sampling.note).toContain("set_alpha_to_one false is not reproduced: levelskip's DDIM ends at ᾱ = 1");
    expect(schedulerFromDiffusersConfig({ _class_name: 'DDIMScheduler', prediction_type: 'sample', clip_sample: false }).sampling).toMatchObject({ prediction: 'sample', clip: false });
  });

  it('DPMSolverMultistepScheduler: dpm-solver, 20 steps, linspace spacing by default, no clipping; other variants are noted', () => {
    const translated = schedulerFromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver', solver_order: 3, use_karras_sigmas: true });
    expect(translated.sampling).toMatchObject({ sampler: 'dpm-solver', steps: 20, timestepSpacing: 'linspace' });
    expect(translated.sampling).not.toHaveProperty('clip');
    expect(translated.sampling.note).toContain('levelskip runs DPM-Solver++(2M) midpoint, not dpmsolver order 3 midpoint');
    expect(translated.sampling.note).toContain('ignored: "use_karras_sigmas"');
  });

  it('a discrete-β scheduler levelskip has no sampler for gives its schedule and DDIM, and says so', () => {
    const translated = schedulerFromDiffusersConfig({ _class_name: 'PNDMScheduler', beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, skip_prk_steps: true, steps_offset: 1 });
    expect(translated.noiseSchedule.kind).toBe('scaled-linear');
    expect(translated.sampling).toEqual({
      sampler: 'ddim',
      steps: 50,
      eta: 0,
      clip: false,
      note: 'from diffusers PNDMScheduler (scheduler_config.json), not measured by levelskip; levelskip has no PNDMScheduler; DDIM (50 steps, η = 0) is recommended on its noise schedule; ignored: "skip_prk_steps"',
    });
  });

  it('its sampling settings are valid model.json settings', () => {
    const spec = tinySpec();
    const weights = deterministicWeights(spec);
    for (const config of [{ ...ddpm, variance_type: 'fixed_large' }, { _class_name: 'DDIMScheduler', prediction_type: 'v_prediction', steps_offset: 1, clip_sample_range: 1.5 }, { _class_name: 'DPMSolverMultistepScheduler' }]) {
      const { sampling } = schedulerFromDiffusersConfig(config);
      // The spec says what the network outputs, and must agree with sampling.prediction.
      const prediction = sampling.prediction === 'v_prediction' ? 'v' : sampling.prediction === 'sample' ? 'sample' : 'eps';
      const files = serializeCheckpoint({ spec: { ...spec, prediction }, weights, sampling });
      expect(parseCheckpoint(files.manifest, files.weights).manifest.sampling).toEqual(sampling);
    }
  });
});

describe('scheduler refusals name the field and the value', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a continuous-time scheduler', { _class_name: 'ScoreSdeVeScheduler' }, /_class_name: "ScoreSdeVeScheduler" is not supported; supported: DDPMScheduler, DDIMScheduler/],
    ['no class', { num_train_timesteps: 1000 }, /_class_name: absent is not supported/],
    ['the sigmoid schedule', { ...ddpm, beta_schedule: 'sigmoid' }, /beta_schedule: "sigmoid" is not supported; supported: "linear", "scaled_linear", "squaredcos_cap_v2", or trained_betas/],
    ['zero terminal SNR', { ...ddpm, rescale_betas_zero_snr: true }, /rescale_betas_zero_snr: true is not supported/],
    ['a learned variance', { ...ddpm, variance_type: 'learned_range' }, /variance_type: "learned_range" is not supported; supported: "fixed_small", "fixed_large"/],
    ['an unknown prediction type', { ...ddpm, prediction_type: 'x0' }, /prediction_type: "x0" is not supported; supported: "epsilon", "v_prediction", "sample"/],
    ['an unknown spacing', { ...ddpm, timestep_spacing: 'karras' }, /timestep_spacing: "karras" is not supported; supported: "leading", "linspace", "trailing"/],
  ])('refuses %s with UNSUPPORTED', (_name, config, pattern) => {
    const error = errorOf(() => schedulerFromDiffusersConfig(config));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^scheduler_config\.json: \d+ fields? levelskip cannot run:\n/);
    expect(error.message).toMatch(pattern);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a wrong type', { ...ddpm, num_train_timesteps: '1000' }, /num_train_timesteps: Invalid input: expected number, received string/],
    ['β ≥ 1', { ...ddpm, beta_end: 1.5 }, /beta_end/],
    ['β decreasing', { ...ddpm, beta_start: 0.02, beta_end: 0.01 }, /the noise schedule is not valid \(.*betaEnd/],
    ['trained_betas of the wrong length', { ...ddpm, num_train_timesteps: 5, trained_betas: [0.1, 0.2] }, /trained_betas: has 2 values but num_train_timesteps is 5/],
    ['a trained β outside (0, 1)', { ...ddpm, num_train_timesteps: 2, trained_betas: [0.1, 1] }, /betas\[1\] must be a number in \(0, 1\)/],
  ])('refuses %s as CHECKPOINT_CORRUPT', (_name, config, pattern) => {
    const error = errorOf(() => schedulerFromDiffusersConfig(config));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(pattern);
  });

  it('reads the text strictly and names the file', () => {
    const error = errorOf(() => readDiffusersSchedulerConfig('{"_class_name": "DDPMScheduler",}', { source: 'scheduler/scheduler_config.json' }));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/^scheduler\/scheduler_config\.json is not valid JSON/);
  });
});
