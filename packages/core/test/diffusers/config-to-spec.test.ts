/**
 * diffusers UNet2DModel config.json → UNetSpec, on hand-written configs: every translated field,
 * diffusers' defaults for absent ones, and every refusal naming the field and its value.
 */
import { describe, expect, it } from 'vitest';
import { readDiffusersUNetConfig, unetSpecFromDiffusersConfig } from '../../src/checkpoint/diffusers/config-to-spec.js';
import { ddpmCifar10 } from '../../src/spec/presets.js';
import { parseUNetSpec, sameSpec } from '../../src/spec/unet-spec.js';
import { errorOf } from '../support/level-skip-errors.js';

/**
 * google/ddpm-cifar10-32's config.json as the Hub serves it (snapshot 16ad61fe82b762ff20c1e48dd3b2c0673b2e099d;
 * the same text, `_name_or_path` pointing at that snapshot, is in
 * huggingface.co/newsyctw/res_DDPM-CIFAR10-32_CIFAR10_ep50_c1.0_p0.5_NONE-FASHION_new-set/unet/config.json).
 */
const ddpmCifar10Config = {
  _class_name: 'UNet2DModel',
  _diffusers_version: '0.5.0.dev0',
  act_fn: 'silu',
  attention_head_dim: null,
  block_out_channels: [128, 256, 256, 256],
  center_input_sample: false,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'],
  downsample_padding: 0,
  flip_sin_to_cos: false,
  freq_shift: 1,
  in_channels: 3,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-6,
  norm_num_groups: 32,
  out_channels: 3,
  sample_size: 32,
  time_embedding_type: 'positional',
  up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
};

/** A small valid config: 2 levels (8, 16 channels), attention at level 1 and in the middle, one head. */
const small = {
  _class_name: 'UNet2DModel',
  sample_size: 8,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
  up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
  attention_head_dim: null,
  norm_num_groups: 4,
};

const refusal = (over: Record<string, unknown>) => errorOf(() => unetSpecFromDiffusersConfig({ ...small, ...over }));

describe('unetSpecFromDiffusersConfig: what translates', () => {
  it('google/ddpm-cifar10-32 translates to the ddpmCifar10 preset (dropout aside, see presets.ts)', () => {
    const spec = unetSpecFromDiffusersConfig(ddpmCifar10Config);
    expect(sameSpec(spec, parseUNetSpec({ ...ddpmCifar10, dropout: 0 }))).toBe(true);
    expect(spec.normEps).toBe(1e-6);
    expect(spec.attentionLevels).toEqual([1]);
    expect(spec.attentionHeads).toBe(1);
  });

  it('maps every supported field', () => {
    const spec = unetSpecFromDiffusersConfig(
      {
        _class_name: 'UNet2DModel',
        _diffusers_version: '0.31.0',
        _name_or_path: '/somewhere/else',
        sample_size: [16, 16],
        in_channels: 2,
        out_channels: 4,
        block_out_channels: [16, 32, 32],
        layers_per_block: 3,
        down_block_types: ['UNetResDownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'],
        mid_block_type: 'UNetMidBlock2D',
        up_block_types: ['UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
        attention_head_dim: 8,
        add_attention: true,
        norm_num_groups: 8,
        attn_norm_num_groups: 8,
        norm_eps: 1e-6,
        act_fn: 'swish',
        flip_sin_to_cos: false,
        freq_shift: 1,
        downsample_padding: 0,
        downsample_type: 'conv',
        upsample_type: 'conv',
        time_embedding_type: 'positional',
        time_embedding_dim: 100,
        resnet_time_scale_shift: 'default',
        center_input_sample: false,
        mid_block_scale_factor: 1,
        class_embed_type: null,
        num_class_embeds: null,
        num_train_timesteps: null,
        dropout: 0.1,
      },
      { trainTimesteps: 500 },
    );
    // By hand: base 16, multipliers 16/16, 32/16, 32/16; heads 32/8 = 4 at level 1 and in the middle.
    expect(spec).toEqual(
      parseUNetSpec({
        imageSize: 16,
        inChannels: 2,
        outChannels: 4,
        baseChannels: 16,
        channelMults: [1, 2, 2],
        resBlocks: 3,
        attentionLevels: [1],
        midAttention: true,
        attentionHeads: 4,
        groups: 8,
        normEps: 1e-6,
        timeEmbedDim: 100,
        flipSinToCos: false,
        freqShift: 1,
        downsamplePadding: 0,
        dropout: 0.1,
        trainTimesteps: 500,
      }),
    );
  });

  it('fills absent fields with diffusers v0.31 defaults (flip_sin_to_cos true, freq_shift 0, padding 1, eps 1e-5, 3 channels)', () => {
    const { in_channels: _in, out_channels: _out, ...rest } = small;
    const spec = unetSpecFromDiffusersConfig(rest);
    expect(spec).toMatchObject({ inChannels: 3, outChannels: 3, flipSinToCos: true, freqShift: 0, downsamplePadding: 1, normEps: 1e-5, dropout: 0, midAttention: true, trainTimesteps: 1000 });
    expect(spec.timeEmbedDim).toBe(32);
  });

  it('add_attention false: no attention in the middle block; attention levels from the block types alone', () => {
    const spec = unetSpecFromDiffusersConfig({ ...small, add_attention: false, down_block_types: ['AttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'AttnUpBlock2D'] });
    expect(spec.midAttention).toBe(false);
    expect(spec.attentionLevels).toEqual([0]);
  });

  it('downsample_type / upsample_type only matter where an attention block resamples, as in get_down_block / get_up_block', () => {
    // Attention only at the deepest level: its down block does not downsample and its up block upsamples (up_blocks[0])...
    expect(unetSpecFromDiffusersConfig({ ...small, downsample_type: 'resnet' }).attentionLevels).toEqual([1]);
    // ...but the up block does resample, so upsample_type counts.
    expect(refusal({ upsample_type: 'resnet' }).message).toMatch(/upsample_type: "resnet" is not supported/);
  });

  it('accepts attn_norm_num_groups equal to norm_num_groups, and attention_head_dim giving one head count everywhere', () => {
    const spec = unetSpecFromDiffusersConfig({ ...small, block_out_channels: [8, 16], attention_head_dim: 4, attn_norm_num_groups: 4 });
    expect(spec.attentionHeads).toBe(4);
  });

  it('reads the text with the strict JSON parser', () => {
    expect(readDiffusersUNetConfig(JSON.stringify(small)).imageSize).toBe(8);
    const duplicate = errorOf(() => readDiffusersUNetConfig('{"sample_size": 8, "sample_size": 16}', { source: 'unet/config.json' }));
    expect(duplicate.code).toBe('CHECKPOINT_CORRUPT');
    expect(duplicate.message).toMatch(/^unet\/config\.json is not valid JSON \(duplicate key .*line 1/);
    expect(errorOf(() => readDiffusersUNetConfig('[1, 2]')).message).toMatch(/must hold a JSON object/);
  });
});

describe('unetSpecFromDiffusersConfig: refusals name the field and the value', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a conditional U-Net', { _class_name: 'UNet2DConditionModel' }, /_class_name: "UNet2DConditionModel" is not supported; levelskip loads UNet2DModel/],
    ['a skip block', { down_block_types: ['DownBlock2D', 'AttnSkipDownBlock2D'] }, /down_block_types\[1\]: "AttnSkipDownBlock2D" is not supported; supported: "DownBlock2D", "AttnDownBlock2D"/],
    ['a resnet-downsample block', { down_block_types: ['ResnetDownsampleBlock2D', 'AttnDownBlock2D'] }, /down_block_types\[0\]: "ResnetDownsampleBlock2D" is not supported/],
    ['a cross-attention up block', { up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'] }, /up_block_types\[0\]: "CrossAttnUpBlock2D" is not supported; supported: "UpBlock2D", "AttnUpBlock2D"/],
    ['attention that does not mirror', { up_block_types: ['UpBlock2D', 'AttnUpBlock2D'] }, /up_block_types\[0\]: "UpBlock2D" does not mirror down_block_types\[1\] = "AttnDownBlock2D"/],
    ['a Fourier time embedding', { time_embedding_type: 'fourier' }, /time_embedding_type: "fourier" is not supported; supported: "positional"/],
    ['a learned time embedding', { time_embedding_type: 'learned', num_train_timesteps: 1000 }, /time_embedding_type: "learned" is not supported/],
    ['scale-shift time conditioning', { resnet_time_scale_shift: 'scale_shift' }, /resnet_time_scale_shift: "scale_shift" is not supported; supported: "default"/],
    ['class conditioning by embedding', { num_class_embeds: 10 }, /num_class_embeds: 10 is not supported; supported: null \(class conditioning/],
    ['class conditioning by timestep', { class_embed_type: 'timestep' }, /class_embed_type: "timestep" is not supported/],
    ['input centring', { center_input_sample: true }, /center_input_sample: true is not supported; supported: false/],
    ['a scaled middle block', { mid_block_scale_factor: 1.414 }, /mid_block_scale_factor: 1\.414 is not supported; supported: 1/],
    ['no middle block', { mid_block_type: null }, /mid_block_type: null is not supported; supported: "UNetMidBlock2D"/],
    ['another activation', { act_fn: 'gelu' }, /act_fn: "gelu" is not supported; supported: "silu", "swish"/],
    ['padding 2', { downsample_padding: 2 }, /downsample_padding: 2 is not supported; supported: 0, 1/],
    ['a resnet downsampler in an attention block', { down_block_types: ['AttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'AttnUpBlock2D'], downsample_type: 'resnet' }, /downsample_type: "resnet" is not supported; supported: "conv", null/],
    ['another attention GroupNorm', { attn_norm_num_groups: 2 }, /attn_norm_num_groups: 2 is not supported/],
    ['no GroupNorm groups', { norm_num_groups: null }, /norm_num_groups: null is not supported/],
    ['no sample size', { sample_size: null }, /sample_size: null is not supported; levelskip needs the image size/],
    ['a non-square sample size', { sample_size: [8, 16] }, /sample_size: \[8, 16\] is not supported; levelskip runs square images/],
    ['widths that are no integer multiple', { block_out_channels: [8, 12], norm_num_groups: 4 }, /block_out_channels\[1\]: 12 is not a multiple of block_out_channels\[0\] = 8/],
    ['a head dimension that does not divide', { attention_head_dim: 6 }, /attention_head_dim: 6 does not divide the 16 channels of level 1/],
    ['per-layer head counts', { block_out_channels: [8, 16, 32], down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'], attention_head_dim: 4 }, /attention_head_dim: 4 gives 4 heads at level 1 \(16 channels\) but 8 at the middle block \(32 channels\)/],
    ['a field levelskip does not know', { cross_attention_dim: 768 }, /cross_attention_dim: is not a UNet2DModel field levelskip knows/],
  ])('refuses %s with UNSUPPORTED', (_name, over, pattern) => {
    const error = refusal(over);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^config\.json: \d+ fields? levelskip cannot run:\n/);
    expect(error.message).toMatch(pattern);
    expect(error.issues.length).toBeGreaterThan(0);
  });

  it("diffusers' own defaults (224…896 channels, attention_head_dim 8) give per-layer head counts, which are refused", () => {
    const error = errorOf(() => unetSpecFromDiffusersConfig({ sample_size: 32 }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('attention_head_dim: 8 gives 56 heads at level 1 (448 channels) but 84 at level 2 (672 channels)');
  });

  it('lists every problem at once, with one issue per field', () => {
    const error = refusal({ act_fn: 'mish', time_embedding_type: 'fourier', down_block_types: ['SkipDownBlock2D', 'AttnDownBlock2D'] });
    expect(error.message).toMatch(/^config\.json: 3 fields levelskip cannot run:/);
    expect(error.issues.map((issue) => issue.path)).toEqual([['down_block_types', 0], ['act_fn'], ['time_embedding_type']]);
  });

  it('describes a long value instead of quoting it', () => {
    const error = refusal({ act_fn: 'x'.repeat(300) });
    expect(error.message).toContain('act_fn: a string of 300 characters is not supported');
    expect(error.message).not.toContain('xxxxxxxxxx');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a wrong type', { layers_per_block: '2' }, /layers_per_block: Invalid input: expected number, received string/],
    ['a negative width', { block_out_channels: [8, -16] }, /block_out_channels\[1\]/],
    ['too few up blocks', { up_block_types: ['AttnUpBlock2D'] }, /up_block_types: has 1 entries but block_out_channels has 2/],
    ['groups that do not divide', { norm_num_groups: 3 }, /block_out_channels\[0\]: 8 channels are not divisible by norm_num_groups = 3/],
    ['a size the levels cannot halve', { sample_size: 9 }, /sample_size: 9 is not divisible by 2\^\(levels - 1\) = 2/],
  ])('refuses %s as CHECKPOINT_CORRUPT (diffusers could not build it either)', (_name, over, pattern) => {
    const error = refusal(over);
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(pattern);
  });

  it("refuses a spec beyond levelskip's bounds with INVALID_SPEC, naming the file", () => {
    const error = refusal({ block_out_channels: [8, 16 * 1024], norm_num_groups: 8 });
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toMatch(/^config\.json translates to a spec levelskip refuses/);
  });

  it('refuses a value that is not an object', () => {
    expect(errorOf(() => unetSpecFromDiffusersConfig(null)).code).toBe('CHECKPOINT_CORRUPT');
    expect(errorOf(() => unetSpecFromDiffusersConfig([small])).code).toBe('CHECKPOINT_CORRUPT');
  });
});
