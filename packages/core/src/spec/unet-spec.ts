/**
 * The U-Net specification: the single description of an architecture that every backend,
 * the geometry/FLOP accounting and the checkpoint format read.
 *
 * Validated once at the public boundary (`parseUNetSpec`); everything inside trusts the
 * parsed `UNetSpec` type. Field names follow diffusers' `UNet2DModel` config where one exists.
 */
// zod/mini: the same validation as classic zod at a fraction of the bundle (browsers load this
// package), with English messages from zod's own locale, passed per parse (no global config).
import { specPredictions } from './prediction-type.js';
import * as z from 'zod/mini';
import { en as english } from 'zod/v4/locales';
import * as E from '../errors/either.js';
import { LevelskipError, formatPath, type LevelskipIssue } from '../errors/levelskip-error.js';
import { quoteName } from '../checkpoint/strict-json.js';

/** zod's English messages ("Too small: expected number to be >0"), for every parse in core. */
export const zodMessages = english().localeError;

/**
 * Upper bounds of every numeric spec field. Generous for real models (diffusers' DDPM CIFAR-10
 * and CelebA-HQ 256, LDM and Stable Diffusion U-Nets use at most 1,280 channels, 1,000 timesteps,
 * 6 levels, 3 res blocks and 8 to 20 heads), but small enough that no spec makes the geometry,
 * schedules or checkpoint code allocate absurd arrays (trainTimesteps 2^31 − 1 used to abort V8
 * with "invalid size"). The memory a forward pass needs at a given size is estimated separately
 * (`estimateActivationBytes`), because it depends on the batch too.
 */
export const unetSpecLimits = Object.freeze({
  /** Image height = width, in pixels (Stable Diffusion's latents are 64–128, pixel-space models 32–1024). */
  imageSize: 4096,
  /** Image channels in and out (RGB 3, latents 4–16). */
  imageChannels: 1024,
  /** baseChannels and every level's channels, baseChannels × channelMults[l] (SD: 1,280). */
  channels: 8192,
  /** Each channel multiplier (SD: 4; ADM: 4). */
  channelMultiplier: 64,
  /** Levels N, the length of channelMults (CelebA-HQ 256: 6). */
  levels: 8,
  /** Res blocks per encoder level (diffusers: 1–3). */
  resBlocks: 8,
  /** Attention heads (SD: 8–20). */
  attentionHeads: 1024,
  /** GroupNorm groups (usually 32; at most the channels anyway). */
  groups: 8192,
  /** Time-embedding width (4 × the largest baseChannels). */
  timeEmbedDim: 32768,
  /** GroupNorm epsilon (usually 1e-5 or 1e-6). */
  normEps: 1,
  /** diffusers' freq_shift (0 or 1 in every released model). */
  freqShift: 1000,
  /** Diffusion training timesteps T (DDPM: 1,000; some use 4,000). */
  trainTimesteps: 100_000,
  /** Decoder stages of a multi-decoder U-Net. */
  decoderStages: 16,
  /** ODE solver steps of ode2 blocks. */
  odeSteps: 64,
} as const);

/** A bound's message: the limit and what to do, with the field path put in front by the caller. */
const tooLarge = (limit: number, what: string) => `must be at most ${limit.toLocaleString('en-US')} (${what}); a larger value is a typo or not a levelskip model — fix the spec`;

/** A positive integer at most `limit`. */
const boundedInt = (limit: number, what: string) => z.int().check(z.positive(), z.maximum(limit, tooLarge(limit, what)));
const unitInterval = () => z.number().check(z.minimum(0), z.maximum(1));

/** One timestep stage of a multi-decoder U-Net: normalised t in [tStart, tEnd) uses this decoder. */
export const decoderStageSchema = z.object({
  /** Inclusive lower bound of normalised time t = timestep / trainTimesteps. */
  tStart: unitInterval(),
  /** Exclusive upper bound (inclusive for the last stage, which must end at 1). */
  tEnd: unitInterval(),
  /** Width of this stage's decoder: level l has `baseChannels * channelMults[l]` channels. */
  baseChannels: boundedInt(unetSpecLimits.channels, 'the widest level of real U-Nets has 1,280 channels'),
});

/** Settings of second-order neural-ODE blocks (`block: 'ode2'`). */
export const odeSettingsSchema = z.object({
  /** Fixed-step solver used for s in [0, 1]. */
  solver: z._default(z.enum(['euler', 'rk4']), 'rk4'),
  /** Number of solver steps over s in [0, 1]. */
  steps: z._default(boundedInt(unetSpecLimits.odeSteps, 'a few steps suffice for s in [0, 1]'), 2),
});

export const unetSpecSchema = z
  .strictObject({
    /** Height = width of the (square) images, in pixels. */
    imageSize: boundedInt(unetSpecLimits.imageSize, 'pixels per side'),
    /** Image channels in. */
    inChannels: z._default(boundedInt(unetSpecLimits.imageChannels, 'image channels: 3 for RGB, 4 for latents'), 3),
    /** Image channels out (the ε prediction); defaults to `inChannels`. */
    outChannels: z.optional(boundedInt(unetSpecLimits.imageChannels, 'image channels: 3 for RGB, 4 for latents')),
    /** Channels of level 0; level l has `baseChannels * channelMults[l]`. */
    baseChannels: boundedInt(unetSpecLimits.channels, 'the widest level of real U-Nets has 1,280 channels'),
    /** One multiplier per spatial level; its length is N, the number of levels. */
    channelMults: z
      .array(boundedInt(unetSpecLimits.channelMultiplier, 'real U-Nets use multipliers up to 4'))
      .check(z.minLength(1), z.maxLength(unetSpecLimits.levels, tooLarge(unetSpecLimits.levels, 'levels N; 6 levels take 256 pixels down to 8'))),
    /** Res (or ode2) blocks per encoder level; decoder levels have one more. */
    resBlocks: z._default(boundedInt(unetSpecLimits.resBlocks, 'real U-Nets use 1 to 3'), 2),
    /** Levels (0 = full resolution) whose blocks are followed by self-attention. */
    attentionLevels: z._default(
      z
        .array(z.int().check(z.minimum(0), z.maximum(unetSpecLimits.levels - 1, tooLarge(unetSpecLimits.levels - 1, 'levels are 0..N-1'))))
        .check(z.maxLength(unetSpecLimits.levels, tooLarge(unetSpecLimits.levels, 'one entry per level at most'))),
      [],
    ),
    /** Self-attention in the middle block (diffusers' `add_attention`). */
    midAttention: z._default(z.boolean(), true),
    /** Attention heads (the channels split evenly between them). */
    attentionHeads: z._default(boundedInt(unetSpecLimits.attentionHeads, 'real U-Nets use 1 to 20'), 1),
    /** GroupNorm groups; must divide every level's channel count. */
    groups: z._default(boundedInt(unetSpecLimits.groups, 'usually 32'), 32),
    /** GroupNorm epsilon. */
    normEps: z._default(z.number().check(z.positive(), z.maximum(unetSpecLimits.normEps, tooLarge(unetSpecLimits.normEps, 'usually 1e-5 or 1e-6'))), 1e-5),
    /** Width of the time-embedding MLP; defaults to `4 * baseChannels`. */
    timeEmbedDim: z.optional(boundedInt(unetSpecLimits.timeEmbedDim, 'usually 4 × baseChannels')),
    /** Sinusoidal embedding: [cos, sin] instead of [sin, cos] (diffusers' `flip_sin_to_cos`). */
    flipSinToCos: z._default(z.boolean(), true),
    /** diffusers' `freq_shift` (DDPM's original embedding uses 1). */
    freqShift: z._default(z.number().check(z.minimum(0), z.maximum(unetSpecLimits.freqShift, tooLarge(unetSpecLimits.freqShift, 'diffusers uses 0 or 1'))), 0),
    /** Padding of the stride-2 downsampling conv: 1 = symmetric, 0 = pad right/bottom only (DDPM). */
    downsamplePadding: z._default(z.union([z.literal(0), z.literal(1)]), 1),
    /** Dropout probability inside res blocks (training only). */
    dropout: z._default(z.number().check(z.minimum(0), z.lt(1)), 0),
    /** Learned side paths for the `interpolate` fill. */
    sidePaths: z._default(z.boolean(), false),
    /** Block type at every level: ResNet blocks or second-order neural-ODE blocks. */
    block: z._default(z.enum(['resnet', 'ode2']), 'resnet'),
    /** Solver settings for `block: 'ode2'`. */
    ode: z._default(odeSettingsSchema, { solver: 'rk4', steps: 2 }),
    /** Multi-decoder U-Net: one decoder per timestep stage, shared encoder and middle block. */
    decoderStages: z.optional(
      z.array(decoderStageSchema).check(z.minLength(1), z.maxLength(unetSpecLimits.decoderStages, tooLarge(unetSpecLimits.decoderStages, 'stages of a multi-decoder U-Net'))),
    ),
    /** Number of diffusion training timesteps T (maps timesteps to normalised t). */
    trainTimesteps: z._default(boundedInt(unetSpecLimits.trainTimesteps, 'DDPM uses 1,000'), 1000),
    /**
     * What the network outputs: `eps` the noise ε (default), `v` the velocity
     * v = √ᾱ_t ε − √(1 − ᾱ_t) x₀, `sample` the clean image x₀ (diffusers' `prediction_type`
     * `epsilon`, `v_prediction`, `sample`). Samplers convert it to ε (`sample()` reads it from
     * here); levelskip's trainer trains `eps` models only.
     */
    prediction: z._default(z.enum(specPredictions as ['eps', 'v', 'sample']), 'eps'),
  })
  .check(
    z.superRefine((spec, ctx) => {
      const levels = spec.channelMults.length;
      if (spec.imageSize % 2 ** (levels - 1) !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['imageSize'],
          message: `imageSize ${spec.imageSize} must be divisible by 2^(N-1) = ${2 ** (levels - 1)} for N = ${levels} levels; pad the images or use fewer channelMults`,
        });
      }
      spec.attentionLevels.forEach((level, i) => {
        if (level >= levels) {
          ctx.addIssue({
            code: 'custom',
            path: ['attentionLevels', i],
            message: `attention level ${level} does not exist: levels are 0..${levels - 1}`,
          });
        }
      });
      const widths: { path: (string | number)[]; base: number }[] = [{ path: ['baseChannels'], base: spec.baseChannels }];
      spec.decoderStages?.forEach((stage, i) => widths.push({ path: ['decoderStages', i, 'baseChannels'], base: stage.baseChannels }));
      for (const { path, base } of widths) {
        spec.channelMults.forEach((mult, level) => {
          const channels = base * mult;
          if (channels > unetSpecLimits.channels) {
            ctx.addIssue({
              code: 'custom',
              path,
              message: `level ${level} has ${channels} channels (${base} × channelMults[${level}] = ${mult}), more than the limit of ${unetSpecLimits.channels.toLocaleString('en-US')}; lower the base width or the multiplier`,
            });
          }
          if (channels % spec.groups !== 0) {
            ctx.addIssue({
              code: 'custom',
              path,
              message: `level ${level} has ${channels} channels, not divisible by groups = ${spec.groups}; choose groups dividing every level's channels`,
            });
          }
          if (channels % spec.attentionHeads !== 0 && (spec.attentionLevels.includes(level) || (spec.midAttention && level === levels - 1))) {
            ctx.addIssue({
              code: 'custom',
              path: ['attentionHeads'],
              message: `attentionHeads ${spec.attentionHeads} does not divide the ${channels} channels of attention level ${level}`,
            });
          }
        });
      }
      const temb = spec.timeEmbedDim ?? 4 * spec.baseChannels;
      if (spec.baseChannels % 2 !== 0) {
        ctx.addIssue({ code: 'custom', path: ['baseChannels'], message: 'baseChannels must be even (it is the sinusoidal embedding width)' });
      }
      if (temb < 1) ctx.addIssue({ code: 'custom', path: ['timeEmbedDim'], message: 'timeEmbedDim must be positive' });
      if (spec.decoderStages) validateStages(spec.decoderStages, ctx);
      }),
    );

function validateStages(stages: readonly z.infer<typeof decoderStageSchema>[], ctx: z.core.$RefinementCtx<unknown>): void {
  const eps = 1e-9;
  stages.forEach((stage, i) => {
    if (!(stage.tEnd > stage.tStart)) {
      ctx.addIssue({ code: 'custom', path: ['decoderStages', i, 'tEnd'], message: `tEnd ${stage.tEnd} must be greater than tStart ${stage.tStart}` });
    }
  });
  const first = stages[0]!;
  if (Math.abs(first.tStart) > eps) {
    ctx.addIssue({ code: 'custom', path: ['decoderStages', 0, 'tStart'], message: 'the first stage must start at t = 0 (stages cover [0, 1] in increasing order)' });
  }
  for (let i = 1; i < stages.length; i++) {
    const prev = stages[i - 1]!;
    const cur = stages[i]!;
    if (Math.abs(cur.tStart - prev.tEnd) > eps) {
      ctx.addIssue({
        code: 'custom',
        path: ['decoderStages', i, 'tStart'],
        message: `stage ${i} starts at ${cur.tStart} but stage ${i - 1} ends at ${prev.tEnd}: stages must be contiguous, in increasing t, without gaps or overlap`,
      });
    }
  }
  const last = stages[stages.length - 1]!;
  if (Math.abs(last.tEnd - 1) > eps) {
    ctx.addIssue({ code: 'custom', path: ['decoderStages', stages.length - 1, 'tEnd'], message: 'the last stage must end at t = 1' });
  }
}

/** A U-Net spec as users write it (optional fields may be omitted). */
export type UNetSpecInput = z.input<typeof unetSpecSchema>;
type ParsedSpec = z.output<typeof unetSpecSchema>;
/** A validated U-Net spec with every default filled in. */
export type UNetSpec = Readonly<Omit<ParsedSpec, 'outChannels' | 'timeEmbedDim'>> & {
  readonly outChannels: number;
  readonly timeEmbedDim: number;
};
export type DecoderStage = z.infer<typeof decoderStageSchema>;

/**
 * zod's issues with messages that never echo a file's content: zod quotes unrecognized keys in
 * full, and a key read from a file may be anything, so they are shortened (`quoteName`). No other
 * English zod message quotes a received value.
 */
export function safeZodIssues(error: z.core.$ZodError): LevelskipIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : typeof p === 'string' ? shortKey(p) : p)),
    message:
      issue.code === 'unrecognized_keys'
        ? `Unrecognized key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.slice(0, 5).map(quoteName).join(', ')}${issue.keys.length > 5 ? `, and ${issue.keys.length - 5} more` : ''}`
        : issue.message,
  }));
}

/** A path segment read from a file, shortened like `quoteName` (without the quotes). */
function shortKey(key: string): string {
  return key.length <= 64 ? key : `${key.slice(0, 64)}...`;
}

function specError(issues: LevelskipIssue[], cause: unknown): LevelskipError {
  const lines = issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  return new LevelskipError('INVALID_SPEC', `Invalid U-Net spec:\n${lines.join('\n')}`, { issues, cause });
}

/** Validates a spec, returning `Either<LevelskipError, UNetSpec>` for callers who prefer values to exceptions. */
export function validateUNetSpec(input: unknown): E.Either<LevelskipError, UNetSpec> {
  const result = unetSpecSchema.safeParse(input, { error: zodMessages });
  if (!result.success) return E.left(specError(safeZodIssues(result.error), result.error));
  const parsed = result.data;
  const spec: UNetSpec = Object.freeze({
    ...parsed,
    outChannels: parsed.outChannels ?? parsed.inChannels,
    timeEmbedDim: parsed.timeEmbedDim ?? 4 * parsed.baseChannels,
  });
  return E.right(spec);
}
/** Validates a spec and fills defaults; throws `LevelskipError('INVALID_SPEC')` listing every problem with its path. */
export function parseUNetSpec(input: unknown): UNetSpec {
  const result = validateUNetSpec(input);
  if (E.isLeft(result)) throw result.left;
  return result.right;
}

/** Number of spatial levels N. */
export function levelCount(spec: Pick<UNetSpec, 'channelMults'>): number {
  return spec.channelMults.length;
}

/**
 * Whether two parsed specs describe the same network. Compared field by field (as JSON with sorted
 * keys), so the order in which a spec's keys were written, e.g. read back from a model.json, does
 * not matter.
 */
export function sameSpec(a: UNetSpec, b: UNetSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}
