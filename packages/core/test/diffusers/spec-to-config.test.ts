/**
 * UNetSpec → diffusers UNet2DModel config.json (and noise schedule → scheduler_config.json): the
 * values written for hand-checked specs, the inverse of the config reader on every preset it can
 * express, and each refusal naming its field. (test/diffusers at the repository root checks the
 * writer against config.json files written by diffusers itself.)
 */
import { describe, expect, it } from 'vitest';
import { unetSpecFromDiffusersConfig } from '../../src/checkpoint/diffusers/config-to-spec.js';
import { schedulerFromDiffusersConfig } from '../../src/checkpoint/diffusers/scheduler-config.js';
import { diffusersConfigFromSpec, diffusersSchedulerConfig } from '../../src/checkpoint/diffusers/spec-to-config.js';
import { cosineBetaSchedule, linearBetaSchedule, noiseScheduleFromConfig } from '../../src/noise/noise-schedule.js';
import { ddpmCifar10, mnistMultistage, mnistOde2, mnistSmall } from '../../src/spec/presets.js';
import { parseUNetSpec, sameSpec, type UNetSpecInput } from '../../src/spec/unet-spec.js';
import { errorOf } from '../support/level-skip-errors.js';

describe('diffusersConfigFromSpec', () => {
  it('writes ddpmCifar10 as google/ddpm-cifar10-32 has it (attention at 16×16, one head, DDPM fields)', () => {
    const config = diffusersConfigFromSpec(ddpmCifar10);
    expect(config).toMatchObject({
      _class_name: 'UNet2DModel',
      sample_size: 32,
      in_channels: 3,
      out_channels: 3,
      block_out_channels: [128, 256, 256, 256],
      layers_per_block: 2,
      down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
      attention_head_dim: null,
      add_attention: true,
      norm_num_groups: 32,
      flip_sin_to_cos: false,
      freq_shift: 1,
      downsample_padding: 0,
      act_fn: 'silu',
      time_embedding_type: 'positional',
      resnet_time_scale_shift: 'default',
      mid_block_scale_factor: 1,
      center_input_sample: false,
      class_embed_type: null,
      num_class_embeds: null,
    });
    expect(config.norm_eps).toBe(parseUNetSpec(ddpmCifar10).normEps);
  });

  it('gives several heads as the common head size (64 channels / 4 heads = 16)', () => {
    const config = diffusersConfigFromSpec({ imageSize: 16, inChannels: 1, baseChannels: 32, channelMults: [1, 2], resBlocks: 1, attentionLevels: [1], attentionHeads: 4, groups: 8 });
    expect(config.attention_head_dim).toBe(16);
    expect(config.block_out_channels).toEqual([32, 64]);
  });

  it('writes null for one head and for no attention at all, and add_attention false without middle attention', () => {
    const config = diffusersConfigFromSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, midAttention: false, attentionHeads: 2, groups: 4 });
    expect(config.attention_head_dim).toBeNull();
    expect(config.add_attention).toBe(false);
    expect(config.down_block_types).toEqual(['DownBlock2D', 'DownBlock2D']);
  });

  const expressible: [string, UNetSpecInput][] = [
    ['mnistSmall', mnistSmall],
    ['ddpmCifar10', ddpmCifar10],
    ['4 heads at equal widths', { imageSize: 16, inChannels: 2, baseChannels: 16, channelMults: [1, 2, 2], resBlocks: 2, attentionLevels: [1, 2], attentionHeads: 4, groups: 4, normEps: 1e-6 }],
    ['attention at level 0 only', { imageSize: 8, baseChannels: 8, channelMults: [1, 3], resBlocks: 1, attentionLevels: [0], midAttention: false, groups: 8, dropout: 0.2, freqShift: 1, flipSinToCos: false, downsamplePadding: 0 }],
  ];
  it.each(expressible)('is the inverse of the config reader: %s', (_name, input) => {
    const spec = parseUNetSpec(input);
    expect(sameSpec(unetSpecFromDiffusersConfig(diffusersConfigFromSpec(spec), { trainTimesteps: spec.trainTimesteps }), spec)).toBe(true);
  });

  const refusals: [string, UNetSpecInput, (string | number)[]][] = [
    ['side paths', { ...mnistSmall, sidePaths: true }, ['sidePaths']],
    ['a multi-decoder U-Net', mnistMultistage, ['decoderStages']],
    ['ode2 blocks', mnistOde2, ['block']],
    ['a time embedding other than 4 × baseChannels', { ...mnistSmall, timeEmbedDim: 96 }, ['timeEmbedDim']],
    ['several heads over attention layers of different widths', { ...mnistSmall, attentionHeads: 2 }, ['attentionHeads']],
  ];
  it.each(refusals)('refuses %s, naming the field', (_name, input, path) => {
    const error = errorOf(() => diffusersConfigFromSpec(input));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.issues?.map((issue) => issue.path)).toEqual([path]);
    expect(error.message).toContain(String(path[0]));
  });

  it('lists every problem at once', () => {
    const error = errorOf(() => diffusersConfigFromSpec({ ...mnistOde2, sidePaths: true }));
    expect(error.issues?.map((issue) => issue.path[0])).toEqual(['sidePaths', 'block']);
  });

  it('validates the spec first (INVALID_SPEC)', () => {
    expect(errorOf(() => diffusersConfigFromSpec({ ...mnistSmall, groups: 7 })).code).toBe('INVALID_SPEC');
  });
});

describe('diffusersSchedulerConfig', () => {
  it('linear betas: beta_schedule linear with the range, DDPMScheduler by default', () => {
    const config = diffusersSchedulerConfig({ noiseSchedule: { kind: 'linear', betaStart: 2e-4, betaEnd: 0.03, trainTimesteps: 500 } });
    expect(config).toMatchObject({
      _class_name: 'DDPMScheduler',
      num_train_timesteps: 500,
      beta_schedule: 'linear',
      beta_start: 2e-4,
      beta_end: 0.03,
      trained_betas: null,
      prediction_type: 'epsilon',
      clip_sample: true,
      variance_type: 'fixed_small',
      timestep_spacing: 'leading',
      steps_offset: 0,
    });
  });

  it("cosine with diffusers' constants is squaredcos_cap_v2; DDIMScheduler gets set_alpha_to_one", () => {
    const config = diffusersSchedulerConfig({ noiseSchedule: cosineBetaSchedule(), className: 'DDIMScheduler', clipSample: false, timestepSpacing: 'trailing', stepsOffset: 1 });
    expect(config).toMatchObject({ _class_name: 'DDIMScheduler', beta_schedule: 'squaredcos_cap_v2', trained_betas: null, set_alpha_to_one: true, clip_sample: false, timestep_spacing: 'trailing', steps_offset: 1 });
  });

  it('a cosine schedule with other constants is written as its betas', () => {
    const schedule = cosineBetaSchedule({ trainTimesteps: 50, s: 0.02 });
    const config = diffusersSchedulerConfig({ noiseSchedule: schedule });
    expect(config['trained_betas']).toEqual(Array.from(schedule.betas));
  });

  it.each([
    ['linear', linearBetaSchedule()],
    ['cosine', cosineBetaSchedule()],
    ['cosine, s = 0.02', cosineBetaSchedule({ trainTimesteps: 100, s: 0.02 })],
  ] as const)('reads back to the same betas (%s)', (_name, schedule) => {
    const back = noiseScheduleFromConfig(schedulerFromDiffusersConfig(diffusersSchedulerConfig({ noiseSchedule: schedule })).noiseSchedule);
    expect(back.trainTimesteps).toBe(schedule.trainTimesteps);
    for (let t = 0; t < schedule.trainTimesteps; t++) expect(back.betas[t]).toBeCloseTo(schedule.betas[t]!, 15);
  });

  it('carries the sampler settings: prediction type, clipping, spacing', () => {
    const config = diffusersSchedulerConfig({ noiseSchedule: { kind: 'linear' }, className: 'DDIMScheduler', prediction: 'v_prediction', clipSampleRange: 2, timestepSpacing: 'linspace' });
    const sampling = schedulerFromDiffusersConfig(config).sampling;
    expect(sampling).toMatchObject({ sampler: 'ddim', prediction: 'v_prediction', clip: true, clipSampleRange: 2, timestepSpacing: 'linspace' });
  });

  it.each([
    ['className', { className: 'PNDMScheduler' }],
    ['prediction', { prediction: 'eps' }],
    ['timestepSpacing', { timestepSpacing: 'uniform' }],
    ['stepsOffset', { stepsOffset: -1 }],
    ['clipSampleRange', { clipSampleRange: 0 }],
  ])('refuses a bad %s (INVALID_OPTION naming it)', (field, over) => {
    const error = errorOf(() => diffusersSchedulerConfig({ noiseSchedule: { kind: 'linear' }, ...(over as object) }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain(field);
  });
});
