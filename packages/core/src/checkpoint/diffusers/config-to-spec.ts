/**
 * A 🤗 diffusers `UNet2DModel` config (`config.json`, as `save_pretrained` writes it) → a
 * levelskip `UNetSpec`, before any weight is read.
 *
 * The mapping follows diffusers v0.31.0, src/diffusers/models/unets/unet_2d.py (`UNet2DModel.__init__`)
 * and unet_2d_blocks.py (`get_down_block`, `get_up_block`, `UNetMidBlock2D`, `AttnDownBlock2D`):
 *
 *   config.json                      UNetSpec
 *   sample_size (int or [s, s])      imageSize
 *   in_channels / out_channels       inChannels / outChannels
 *   block_out_channels               baseChannels = block_out_channels[0],
 *                                    channelMults[l] = block_out_channels[l] / block_out_channels[0]
 *   layers_per_block                 resBlocks (decoder levels have one more, as in diffusers)
 *   down_block_types[l] Attn…        attentionLevels ∋ l; up_block_types[N-1-l] must agree
 *                                    (up_blocks run deepest first)
 *   add_attention                    midAttention
 *   attention_head_dim (d)           attentionHeads = channels / d at every attention layer
 *                                    (null: d = the layer's channels, one head); diffusers
 *                                    sets heads per layer, levelskip one count for all, so every
 *                                    attention layer must get the same count
 *   norm_num_groups, norm_eps        groups, normEps (diffusers uses norm_eps in every GroupNorm,
 *                                    the attention's included)
 *   flip_sin_to_cos, freq_shift      flipSinToCos, freqShift
 *   downsample_padding (0 or 1)      downsamplePadding
 *   time_embedding_dim               timeEmbedDim (null: 4 × block_out_channels[0])
 *   dropout                          dropout
 *
 * Accepted only at the value levelskip runs: `_class_name` UNet2DModel, act_fn silu/swish,
 * time_embedding_type positional, resnet_time_scale_shift default, center_input_sample false,
 * mid_block_scale_factor 1, mid_block_type UNetMidBlock2D, attn_norm_num_groups null or
 * norm_num_groups, no class conditioning (class_embed_type and num_class_embeds null), and the
 * downsample/upsample type `conv` where an attention block resamples. Anything else is refused with
 * `LevelskipError('UNSUPPORTED')` naming the field, its value and what is supported; a field this
 * module does not know is refused too (it may change the network), except private `_…` fields.
 */
import type { SpecPrediction } from '../../spec/prediction-type.js';
import * as z from 'zod/mini';
import { LevelskipError, type LevelskipIssue } from '../../errors/levelskip-error.js';
import { parseUNetSpec, safeZodIssues, zodMessages, type UNetSpec, type UNetSpecInput } from '../../spec/unet-spec.js';
import { quoteToken } from '../strict-json.js';
import { diffusersIssuesError, parseDiffusersJson } from './diffusers-json.js';

/** The diffusers model class levelskip loads. */
export const diffusersUNetClass = 'UNet2DModel';

/** Down block types levelskip runs (`UNetRes…` spellings are diffusers' old aliases of the same blocks). */
export const supportedDownBlockTypes = ['DownBlock2D', 'AttnDownBlock2D'] as const;
/** Up block types levelskip runs. */
export const supportedUpBlockTypes = ['UpBlock2D', 'AttnUpBlock2D'] as const;

/** diffusers' activation names for SiLU (`get_activation`: both map to `nn.SiLU`). */
const siluNames = ['silu', 'swish'];

const positiveInt = () => z.int().check(z.positive());
const nullableOptional = <T extends z.core.SomeType>(schema: T) => z.optional(z.nullable(schema));

/** Types of the fields levelskip reads, with diffusers v0.31's defaults where a field is absent. */
const configSchema = z.looseObject({
  _class_name: z.optional(z.string()),
  sample_size: nullableOptional(z.union([positiveInt(), z.array(positiveInt()).check(z.length(2))])),
  in_channels: z.optional(positiveInt()),
  out_channels: z.optional(positiveInt()),
  center_input_sample: z.optional(z.boolean()),
  time_embedding_type: z.optional(z.string()),
  time_embedding_dim: nullableOptional(positiveInt()),
  freq_shift: z.optional(z.number().check(z.minimum(0))),
  flip_sin_to_cos: z.optional(z.boolean()),
  down_block_types: z.optional(z.array(z.string()).check(z.minLength(1))),
  mid_block_type: nullableOptional(z.string()),
  up_block_types: z.optional(z.array(z.string()).check(z.minLength(1))),
  block_out_channels: z.optional(z.array(positiveInt()).check(z.minLength(1))),
  layers_per_block: z.optional(positiveInt()),
  mid_block_scale_factor: z.optional(z.number()),
  downsample_padding: z.optional(z.int().check(z.minimum(0))),
  downsample_type: nullableOptional(z.string()),
  upsample_type: nullableOptional(z.string()),
  dropout: z.optional(z.number().check(z.minimum(0), z.lt(1))),
  act_fn: z.optional(z.string()),
  attention_head_dim: nullableOptional(positiveInt()),
  norm_num_groups: nullableOptional(positiveInt()),
  attn_norm_num_groups: nullableOptional(positiveInt()),
  norm_eps: z.optional(z.number().check(z.positive())),
  resnet_time_scale_shift: z.optional(z.string()),
  add_attention: z.optional(z.boolean()),
  class_embed_type: nullableOptional(z.string()),
  num_class_embeds: nullableOptional(z.int()),
  num_train_timesteps: nullableOptional(positiveInt()),
});

type DiffusersUNetConfig = z.infer<typeof configSchema>;

/** Every public field of `UNet2DModel`'s config (diffusers v0.31.0, plus `time_embedding_dim` and `mid_block_type` of later versions). */
const knownFields = new Set(Object.keys(configSchema.shape).filter((key) => !key.startsWith('_')));

export interface DiffusersConfigOptions {
  /** The scheduler's `num_train_timesteps` (the spec's `trainTimesteps`); default 1000. */
  readonly trainTimesteps?: number;
  /** The scheduler's `prediction_type`, as the spec's `prediction` (`eps`, `v`, `sample`); default `eps`. */
  readonly prediction?: SpecPrediction;
  /** Names the file in errors (a path or URL); default `config.json`. */
  readonly source?: string;
}

/** Quotes a config value for a message: identifiers and numbers as they are, anything else described. */
const shown = (value: unknown): string => (Array.isArray(value) ? `[${value.map(shown).join(', ')}]` : quoteToken(value));
const listOf = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** A block type with diffusers' `UNetRes` alias prefix removed, as `get_down_block` does. */
function blockType(name: string): string {
  return name.startsWith('UNetRes') ? name.slice('UNetRes'.length) : name;
}

/**
 * Translates a parsed `UNet2DModel` config into a validated spec. Nothing is read but the config.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when a field has the wrong type or the config is
 *   inconsistent (as diffusers itself would refuse it), `UNSUPPORTED` listing every field whose value
 *   levelskip cannot run (its path, value and the supported values), `INVALID_SPEC` when the
 *   translated spec exceeds levelskip's bounds.
 */
export function unetSpecFromDiffusersConfig(config: unknown, options: DiffusersConfigOptions = {}): UNetSpec {
  const source = options.source ?? 'config.json';
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${source} must hold a JSON object (a diffusers UNet2DModel config)`);
  }
  const className = (config as Record<string, unknown>)['_class_name'];
  if (className !== undefined && className !== diffusersUNetClass) {
    const message = `${shown(className)} is not supported; levelskip loads ${diffusersUNetClass} (unconditional pixel-space U-Nets)`;
    throw diffusersIssuesError('UNSUPPORTED', source, 'levelskip cannot run', [{ path: ['_class_name'], message }]);
  }
  const parsed = configSchema.safeParse(config, { error: zodMessages });
  if (!parsed.success) {
    throw diffusersIssuesError('CHECKPOINT_CORRUPT', source, 'not valid for a UNet2DModel config', safeZodIssues(parsed.error), parsed.error);
  }
  const c = parsed.data;
  const input = translate(c, source);
  try {
    return parseUNetSpec({
      ...input,
      ...(options.trainTimesteps === undefined ? {} : { trainTimesteps: options.trainTimesteps }),
      ...(options.prediction === undefined ? {} : { prediction: options.prediction }),
    });
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError(error.code, `${source} translates to a spec levelskip refuses: ${error.message}`, { cause: error, issues: error.issues });
  }
}

/**
 * A `UNet2DModel` config file's text → the spec. See `unetSpecFromDiffusersConfig`.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for text that is not a strict JSON object, and
 *   `unetSpecFromDiffusersConfig`'s errors.
 */
export function readDiffusersUNetConfig(text: string, options: DiffusersConfigOptions = {}): UNetSpec {
  const source = options.source ?? 'config.json';
  return unetSpecFromDiffusersConfig(parseDiffusersJson(text, source), { ...options, source });
}

/** The checks and the mapping; collects every problem before throwing. */
function translate(c: DiffusersUNetConfig, source: string): UNetSpecInput {
  const unsupported: LevelskipIssue[] = [];
  const invalid: LevelskipIssue[] = [];
  const refuse = (path: (string | number)[], message: string): void => {
    unsupported.push({ path, message });
  };

  for (const key of Object.keys(c)) {
    if (!key.startsWith('_') && !knownFields.has(key)) {
      refuse([key], `is not a UNet2DModel field levelskip knows (it may change the network); remove it if it is not part of the model, else this model is not supported`);
    }
  }

  // diffusers v0.31 defaults for absent fields.
  const downTypes = c.down_block_types ?? ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'];
  const upTypes = c.up_block_types ?? ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'];
  const channels = c.block_out_channels ?? [224, 448, 672, 896];
  const levels = channels.length;
  const groups = c.norm_num_groups === undefined ? 32 : c.norm_num_groups;
  const addAttention = c.add_attention ?? true;
  const headDim = c.attention_head_dim === undefined ? 8 : c.attention_head_dim;

  if (downTypes.length !== levels) invalid.push({ path: ['down_block_types'], message: `has ${downTypes.length} entries but block_out_channels has ${levels}; diffusers needs one per level` });
  if (upTypes.length !== levels) invalid.push({ path: ['up_block_types'], message: `has ${upTypes.length} entries but block_out_channels has ${levels}; diffusers needs one per level` });

  // Block types and where attention sits.
  const known = new Set<string>();
  const downAttention = downTypes.map((name, i) => {
    const type = blockType(name);
    if ((supportedDownBlockTypes as readonly string[]).includes(type)) known.add(`down ${i}`);
    else refuse(['down_block_types', i], `${shown(name)} is not supported; supported: ${listOf(supportedDownBlockTypes)}`);
    return type === 'AttnDownBlock2D';
  });
  const upAttention = upTypes.map((name, i) => {
    const type = blockType(name);
    if ((supportedUpBlockTypes as readonly string[]).includes(type)) known.add(`up ${i}`);
    else refuse(['up_block_types', i], `${shown(name)} is not supported; supported: ${listOf(supportedUpBlockTypes)}`);
    return type === 'AttnUpBlock2D';
  });
  const attentionLevels: number[] = [];
  if (downTypes.length === levels && upTypes.length === levels) {
    for (let level = 0; level < levels; level++) {
      const up = levels - 1 - level;
      // A pair with an unsupported type is already refused; a mismatch of two supported types is one more problem.
      if (known.has(`down ${level}`) && known.has(`up ${up}`) && downAttention[level] !== upAttention[up]) {
        refuse(
          ['up_block_types', up],
          `${shown(upTypes[up])} does not mirror down_block_types[${level}] = ${shown(downTypes[level])}: levelskip puts attention at the same levels in the encoder and the decoder (up_blocks run deepest level first)`,
        );
      }
      if (downAttention[level]) attentionLevels.push(level);
    }
  }

  // Widths: level l has baseChannels × an integer multiplier.
  const base = channels[0]!;
  const channelMults = channels.map((width, level) => {
    if (width % base !== 0) refuse(['block_out_channels', level], `${width} is not a multiple of block_out_channels[0] = ${base}; levelskip's levels have block_out_channels[0] × an integer channels`);
    return Math.max(1, Math.round(width / base));
  });
  if (groups === null) {
    refuse(['norm_num_groups'], 'null is not supported; set the GroupNorm group count (usually 32)');
  } else {
    channels.forEach((width, level) => {
      if (width % groups !== 0) invalid.push({ path: ['block_out_channels', level], message: `${width} channels are not divisible by norm_num_groups = ${groups}` });
    });
  }
  if (c.attn_norm_num_groups !== undefined && c.attn_norm_num_groups !== null && c.attn_norm_num_groups !== groups) {
    refuse(['attn_norm_num_groups'], `${c.attn_norm_num_groups} is not supported; levelskip's attention GroupNorm uses norm_num_groups (${String(groups)}): use null`);
  }

  // One head count for every attention layer.
  const sites: { where: string; width: number }[] = [];
  attentionLevels.forEach((level) => sites.push({ where: `level ${level}`, width: channels[level]! }));
  if (addAttention) sites.push({ where: 'the middle block', width: channels[levels - 1]! });
  const heads = sites.map(({ where, width }) => {
    const dim = headDim ?? width;
    if (width % dim !== 0) refuse(['attention_head_dim'], `${dim} does not divide the ${width} channels of ${where}; diffusers would build a narrower attention than levelskip runs`);
    return { where, width, heads: Math.max(1, Math.floor(width / dim)) };
  });
  const attentionHeads = heads[0]?.heads ?? 1;
  const other = heads.find((site) => site.heads !== attentionHeads);
  if (other !== undefined) {
    refuse(
      ['attention_head_dim'],
      `${shown(headDim)} gives ${attentionHeads} heads at ${heads[0]!.where} (${heads[0]!.width} channels) but ${other.heads} at ${other.where} (${other.width} channels); ` +
        'levelskip uses one head count for every attention layer (attention_head_dim null, one head each, or equal widths at every attention layer)',
    );
  }

  // Image size.
  let imageSize = 0;
  if (c.sample_size === undefined || c.sample_size === null) {
    refuse(['sample_size'], `${c.sample_size === null ? 'null' : 'absent'} is not supported; levelskip needs the image size: set sample_size to it`);
  } else if (Array.isArray(c.sample_size)) {
    const [height, width] = c.sample_size as [number, number];
    if (height !== width) refuse(['sample_size'], `${shown(c.sample_size)} is not supported; levelskip runs square images`);
    imageSize = height;
  } else {
    imageSize = c.sample_size;
  }
  if (imageSize > 0 && imageSize % 2 ** (levels - 1) !== 0) {
    invalid.push({ path: ['sample_size'], message: `${imageSize} is not divisible by 2^(levels - 1) = ${2 ** (levels - 1)} for ${levels} levels` });
  }

  // Fields accepted only at the value levelskip runs.
  const only = <V>(field: string, value: V | undefined, accepted: readonly V[], why: string): void => {
    if (value !== undefined && !accepted.includes(value)) refuse([field], `${shown(value)} is not supported; supported: ${accepted.map((v) => shown(v)).join(', ')} (${why})`);
  };
  only('act_fn', c.act_fn, siluNames, 'levelskip\'s blocks use SiLU');
  only('time_embedding_type', c.time_embedding_type, ['positional'], 'the sinusoidal embedding; fourier and learned embeddings are not implemented');
  only('resnet_time_scale_shift', c.resnet_time_scale_shift, ['default'], 'the time embedding is added; scale_shift and spatial norms are not implemented');
  only('center_input_sample', c.center_input_sample, [false], 'levelskip feeds x_t as it is');
  only('mid_block_scale_factor', c.mid_block_scale_factor, [1], 'the middle block is not rescaled');
  only('mid_block_type', c.mid_block_type, ['UNetMidBlock2D'], 'levelskip\'s U-Nets always have a UNetMidBlock2D middle block');
  only('class_embed_type', c.class_embed_type, [null], 'class conditioning is not implemented');
  only('num_class_embeds', c.num_class_embeds, [null], 'class conditioning is not implemented');
  only('downsample_padding', c.downsample_padding, [0, 1], '1: symmetric padding, 0: right/bottom only');
  // diffusers reads downsample_type / upsample_type only in attention blocks that resample (`get_down_block`, `get_up_block`).
  if (downAttention.some((attention, level) => attention && level < levels - 1)) only('downsample_type', c.downsample_type, ['conv', null], 'a stride-2 convolution');
  if (upAttention.some((attention, i) => attention && i < levels - 1)) only('upsample_type', c.upsample_type, ['conv', null], 'nearest upsampling and a convolution');

  if (invalid.length > 0) throw diffusersIssuesError('CHECKPOINT_CORRUPT', source, 'not valid for a UNet2DModel config', invalid);
  if (unsupported.length > 0) throw diffusersIssuesError('UNSUPPORTED', source, 'levelskip cannot run', unsupported);

  return {
    imageSize,
    inChannels: c.in_channels ?? 3,
    outChannels: c.out_channels ?? 3,
    baseChannels: base,
    channelMults,
    resBlocks: c.layers_per_block ?? 2,
    attentionLevels,
    midAttention: addAttention,
    attentionHeads,
    groups: groups ?? 32,
    normEps: c.norm_eps ?? 1e-5,
    ...(c.time_embedding_dim === undefined || c.time_embedding_dim === null ? {} : { timeEmbedDim: c.time_embedding_dim }),
    flipSinToCos: c.flip_sin_to_cos ?? true,
    freqShift: c.freq_shift ?? 0,
    downsamplePadding: (c.downsample_padding ?? 1) as 0 | 1,
    dropout: c.dropout ?? 0,
  };
}

/** Every field of a UNet2DModel config this module reads (for documentation and tests). */
export const diffusersConfigFields: readonly string[] = Object.freeze([...knownFields].sort());
