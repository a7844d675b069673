/**
 * A levelskip `UNetSpec` → the 🤗 diffusers `UNet2DModel` config (`config.json`) that builds the
 * same network, and a noise schedule → a `scheduler_config.json`: the inverse of
 * `config-to-spec.ts` and `scheduler-config.ts`, for writing diffusers directories.
 *
 * Follows diffusers v0.31.0, src/diffusers/models/unets/unet_2d.py (`UNet2DModel.__init__`):
 *
 *   UNetSpec                 config.json
 *   imageSize                sample_size
 *   inChannels, outChannels  in_channels, out_channels
 *   baseChannels × mults     block_out_channels
 *   resBlocks                layers_per_block
 *   attentionLevels          down_block_types[l] = AttnDownBlock2D (else DownBlock2D),
 *                            up_block_types[N-1-l] = AttnUpBlock2D (else UpBlock2D)
 *   midAttention             add_attention
 *   attentionHeads (h)       attention_head_dim: null for one head (diffusers then gives every
 *                            attention layer its own width as head size: one head each), else
 *                            the common head size width / h of every attention layer
 *   groups, normEps          norm_num_groups, norm_eps (attn_norm_num_groups null: the same)
 *   flipSinToCos, freqShift  flip_sin_to_cos, freq_shift
 *   downsamplePadding        downsample_padding
 *   dropout                  dropout
 *
 * and the fixed values levelskip's blocks have: act_fn silu, time_embedding_type positional,
 * resnet_time_scale_shift default, conv down/upsampling, mid_block_scale_factor 1, no class
 * conditioning, no input centring. The weights need no renaming: levelskip's tensor names are
 * diffusers'.
 *
 * What diffusers' UNet2DModel cannot express is refused with `LevelskipError('UNSUPPORTED')`
 * naming the spec field: side paths (`sidePaths`), multi-decoder U-Nets (`decoderStages`), ODE
 * blocks (`block: 'ode2'`), a time-embedding width other than 4 × baseChannels (`timeEmbedDim`;
 * UNet2DModel v0.31 derives it), and several heads over attention layers of different widths
 * (`attentionHeads`; diffusers fixes the head size, levelskip the head count).
 */
import { predictionTypes, type PredictionType } from '../../spec/prediction-type.js';
import { LevelskipError, formatPath, type LevelskipIssue } from '../../errors/levelskip-error.js';
import { noiseScheduleFromConfig, type NoiseSchedule, type NoiseScheduleConfig } from '../../noise/noise-schedule.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../../spec/unet-spec.js';
import { diffusersUNetClass } from './config-to-spec.js';

/** The diffusers version whose config layout is written (`_diffusers_version`). */
export const diffusersConfigVersion = '0.31.0';

/** A `UNet2DModel` config as `save_pretrained` writes it (every field, keys sorted). */
export interface DiffusersUNetConfig {
  readonly _class_name: 'UNet2DModel';
  readonly _diffusers_version: string;
  readonly act_fn: 'silu';
  readonly add_attention: boolean;
  readonly attention_head_dim: number | null;
  readonly attn_norm_num_groups: null;
  readonly block_out_channels: number[];
  readonly center_input_sample: false;
  readonly class_embed_type: null;
  readonly down_block_types: ('DownBlock2D' | 'AttnDownBlock2D')[];
  readonly downsample_padding: 0 | 1;
  readonly downsample_type: 'conv';
  readonly dropout: number;
  readonly flip_sin_to_cos: boolean;
  readonly freq_shift: number;
  readonly in_channels: number;
  readonly layers_per_block: number;
  readonly mid_block_scale_factor: 1;
  readonly norm_eps: number;
  readonly norm_num_groups: number;
  readonly num_class_embeds: null;
  readonly num_train_timesteps: null;
  readonly out_channels: number;
  readonly resnet_time_scale_shift: 'default';
  readonly sample_size: number;
  readonly time_embedding_type: 'positional';
  readonly up_block_types: ('UpBlock2D' | 'AttnUpBlock2D')[];
  readonly upsample_type: 'conv';
}

function refusal(issues: LevelskipIssue[]): LevelskipError {
  const lines = issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  const count = `${issues.length} field${issues.length === 1 ? '' : 's'}`;
  return new LevelskipError('UNSUPPORTED', `This spec cannot be written as a diffusers UNet2DModel (${count}):\n${lines.join('\n')}`, { issues });
}

/**
 * The `UNet2DModel` config of a spec (see the file comment). A spec input is validated first.
 *
 * @throws LevelskipError `INVALID_SPEC` for an invalid spec; `UNSUPPORTED` listing every field
 *   diffusers' UNet2DModel cannot express, each with its value and what to change.
 *
 * @example
 * ```ts
 * const config = diffusersConfigFromSpec(presets.mnistSmall);
 * config.down_block_types; // ['DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D']
 * ```
 */
export function diffusersConfigFromSpec(input: UNetSpec | UNetSpecInput): DiffusersUNetConfig {
  const spec = parseUNetSpec(input);
  const issues: LevelskipIssue[] = [];
  const refuse = (path: (string | number)[], message: string): void => {
    issues.push({ path, message });
  };
  if (spec.sidePaths) {
    refuse(['sidePaths'], 'true is not expressible: the side paths of the interpolate fill have no UNet2DModel counterpart; export a spec with sidePaths false (its other weights are the same)');
  }
  if (spec.decoderStages !== undefined) {
    refuse(['decoderStages'], `${spec.decoderStages.length} decoder stages are not expressible: a UNet2DModel has one decoder; export a single-decoder model`);
  }
  if (spec.block !== 'resnet') {
    refuse(['block'], `'${spec.block}' is not expressible: UNet2DModel's blocks are ResnetBlock2D; only block 'resnet' can be exported`);
  }
  if (spec.timeEmbedDim !== 4 * spec.baseChannels) {
    refuse(['timeEmbedDim'], `${spec.timeEmbedDim} is not expressible: UNet2DModel's time embedding has 4 × block_out_channels[0] = ${4 * spec.baseChannels} channels`);
  }

  const levels = spec.channelMults.length;
  const widths = spec.channelMults.map((mult) => spec.baseChannels * mult);
  const sites = spec.attentionLevels.map((level) => ({ where: `attention level ${level}`, width: widths[level]! }));
  if (spec.midAttention) sites.push({ where: 'the middle block', width: widths[levels - 1]! });
  let headDim: number | null = null;
  if (spec.attentionHeads > 1 && sites.length > 0) {
    const dims = sites.map((site) => site.width / spec.attentionHeads);
    if (dims.some((dim) => dim !== dims[0])) {
      const listed = sites.map((site) => `${site.where}: ${site.width} channels`).join(', ');
      refuse(
        ['attentionHeads'],
        `${spec.attentionHeads} heads over attention layers of different widths (${listed}) are not expressible: diffusers' attention_head_dim fixes the head size for every layer; use attentionHeads 1 or attention only at levels as wide as the middle block`,
      );
    } else {
      headDim = dims[0]!;
    }
  }
  if (issues.length > 0) throw refusal(issues);

  const attention = new Set(spec.attentionLevels);
  const down = widths.map((_, level) => (attention.has(level) ? 'AttnDownBlock2D' : 'DownBlock2D') as 'AttnDownBlock2D' | 'DownBlock2D');
  const up = widths.map((_, i) => (attention.has(levels - 1 - i) ? 'AttnUpBlock2D' : 'UpBlock2D') as 'AttnUpBlock2D' | 'UpBlock2D');
  return {
    _class_name: diffusersUNetClass,
    _diffusers_version: diffusersConfigVersion,
    act_fn: 'silu',
    add_attention: spec.midAttention,
    attention_head_dim: headDim,
    attn_norm_num_groups: null,
    block_out_channels: widths,
    center_input_sample: false,
    class_embed_type: null,
    down_block_types: down,
    downsample_padding: spec.downsamplePadding,
    downsample_type: 'conv',
    dropout: spec.dropout,
    flip_sin_to_cos: spec.flipSinToCos,
    freq_shift: spec.freqShift,
    in_channels: spec.inChannels,
    layers_per_block: spec.resBlocks,
    mid_block_scale_factor: 1,
    norm_eps: spec.normEps,
    norm_num_groups: spec.groups,
    num_class_embeds: null,
    num_train_timesteps: null,
    out_channels: spec.outChannels,
    resnet_time_scale_shift: 'default',
    sample_size: spec.imageSize,
    time_embedding_type: 'positional',
    up_block_types: up,
    upsample_type: 'conv',
  };
}

/** The scheduler classes a written `scheduler_config.json` may name. */
export const writableSchedulerClasses = ['DDPMScheduler', 'DDIMScheduler'] as const;

export interface DiffusersSchedulerInput {
  /** The training noise schedule (a `NoiseSchedule` or its serialised config). */
  readonly noiseSchedule: NoiseSchedule | NoiseScheduleConfig;
  /** Which scheduler class the file names (default `DDPMScheduler`, DDPMPipeline's). */
  readonly className?: (typeof writableSchedulerClasses)[number];
  /** What the model outputs (default `'epsilon'`; levelskip's specs predict ε). */
  readonly prediction?: PredictionType;
  /** Clamp x̂₀ to [-clipSampleRange, clipSampleRange] when sampling (default true, diffusers' default). */
  readonly clipSample?: boolean;
  /** Default 1. */
  readonly clipSampleRange?: number;
  /** diffusers' `timestep_spacing` (default `'leading'`). */
  readonly timestepSpacing?: 'leading' | 'linspace' | 'trailing';
  /** diffusers' `steps_offset` (default 0). */
  readonly stepsOffset?: number;
}

function optionError(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `scheduler ${field} ${message}`, { issues: [{ path: [field], message }] });
}

/**
 * diffusers' `scheduler_config.json` for a noise schedule and sampling settings. linear →
 * `beta_schedule: "linear"`; scaled-linear → `"scaled_linear"`; cosine with s = 0.008 and
 * maxBeta = 0.999 → `"squaredcos_cap_v2"` (diffusers' `betas_for_alpha_bar`, the same formula);
 * any other cosine and explicit betas → `trained_betas`, the β values themselves (float64 to
 * JSON; diffusers stores them as float32).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when one is out of range or unknown.
 */
export function diffusersSchedulerConfig(input: DiffusersSchedulerInput): Record<string, unknown> {
  const className = input.className ?? 'DDPMScheduler';
  if (!(writableSchedulerClasses as readonly string[]).includes(className)) {
    throw optionError('className', `must be one of ${writableSchedulerClasses.join(', ')}, got ${String(className)}`);
  }
  const prediction = input.prediction ?? 'epsilon';
  if (!predictionTypes.includes(prediction)) throw optionError('prediction', `must be one of ${predictionTypes.map((p) => `'${p}'`).join(', ')}, got ${String(prediction)}`);
  const spacing = input.timestepSpacing ?? 'leading';
  if (!['leading', 'linspace', 'trailing'].includes(spacing)) throw optionError('timestepSpacing', `must be 'leading', 'linspace' or 'trailing', got ${String(spacing)}`);
  const stepsOffset = input.stepsOffset ?? 0;
  if (!(Number.isSafeInteger(stepsOffset) && stepsOffset >= 0)) throw optionError('stepsOffset', `must be an integer ≥ 0, got ${String(stepsOffset)}`);
  const clipSampleRange = input.clipSampleRange ?? 1;
  if (!(typeof clipSampleRange === 'number' && clipSampleRange > 0 && Number.isFinite(clipSampleRange))) throw optionError('clipSampleRange', `must be a positive number, got ${String(clipSampleRange)}`);
  // Validates the config (or takes the schedule as built); `config` has every option resolved.
  const schedule = 'alphasCumprod' in input.noiseSchedule ? input.noiseSchedule : noiseScheduleFromConfig(input.noiseSchedule);
  const config = schedule.config;
  let betas: Record<string, unknown>;
  switch (config.kind) {
    case 'linear':
      betas = { beta_schedule: 'linear', beta_start: config.betaStart, beta_end: config.betaEnd, trained_betas: null };
      break;
    case 'scaled-linear':
      betas = { beta_schedule: 'scaled_linear', beta_start: config.betaStart, beta_end: config.betaEnd, trained_betas: null };
      break;
    case 'cosine':
      betas =
        config.s === 0.008 && config.maxBeta === 0.999
          ? { beta_schedule: 'squaredcos_cap_v2', trained_betas: null }
          : { beta_schedule: 'linear', trained_betas: Array.from(schedule.betas) };
      break;
    case 'betas':
      betas = { beta_schedule: 'linear', trained_betas: Array.from(schedule.betas) };
      break;
  }
  const common = {
    _class_name: className,
    _diffusers_version: diffusersConfigVersion,
    num_train_timesteps: schedule.trainTimesteps,
    beta_start: 0.0001,
    beta_end: 0.02,
    ...betas,
    clip_sample: input.clipSample ?? true,
    clip_sample_range: clipSampleRange,
    prediction_type: prediction,
    thresholding: false,
    dynamic_thresholding_ratio: 0.995,
    sample_max_value: 1,
    timestep_spacing: spacing,
    steps_offset: stepsOffset,
    rescale_betas_zero_snr: false,
  };
  return className === 'DDIMScheduler' ? { ...common, set_alpha_to_one: true } : { ...common, variance_type: 'fixed_small' };
}
