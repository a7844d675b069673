/**
 * Named architectures. Each is a `UNetSpecInput`; pass it through `parseUNetSpec`
 * (or any backend's `createDenoiser`) to get the validated spec.
 */
import type { UNetSpecInput } from './unet-spec.js';

/**
 * The DDPM CIFAR-10 U-Net (Ho et al. 2020; diffusers `google/ddpm-cifar10-32`):
 * 128 base channels, multipliers [1, 2, 2, 2], 2 res blocks per level, attention at
 * 16×16 (level 1) and in the middle block: 35.7M parameters.
 *
 * Checked field by field against the model's config.json on the Hub (huggingface.co/google/ddpm-cifar10-32,
 * snapshot 16ad61fe82b762ff20c1e48dd3b2c0673b2e099d, as copied with its `_name_or_path` into
 * derived repositories such as huggingface.co/newsyctw/res_DDPM-CIFAR10-32_CIFAR10_ep50_c1.0_p0.5_NONE-FASHION_new-set,
 * unet/config.json): sample_size 32, in/out_channels 3, block_out_channels [128, 256, 256, 256],
 * layers_per_block 2, down_block_types [Down, AttnDown, Down, Down], up_block_types
 * [Up, Up, AttnUp, Up] (deepest first, so attention at level 1 both ways), attention_head_dim
 * null (one head), norm_num_groups 32, norm_eps 1e-6, act_fn silu, flip_sin_to_cos false,
 * freq_shift 1, downsample_padding 0, time_embedding_type positional, mid_block_scale_factor 1,
 * center_input_sample false. `unetSpecFromDiffusersConfig` of that config equals this preset but
 * for dropout: config.json has none (diffusers' default 0, inference only); 0.1 is the paper's
 * training value for CIFAR-10 (Ho et al. 2020, Appendix B).
 */
export const ddpmCifar10 = {
  imageSize: 32,
  inChannels: 3,
  baseChannels: 128,
  channelMults: [1, 2, 2, 2],
  resBlocks: 2,
  attentionLevels: [1],
  midAttention: true,
  attentionHeads: 1,
  groups: 32,
  normEps: 1e-6,
  dropout: 0.1,
  flipSinToCos: false,
  freqShift: 1,
  downsamplePadding: 0,
} as const satisfies UNetSpecInput;

/**
 * A small U-Net for MNIST padded to 32×32: N = 4 levels (32, 16, 8, 4),
 * 32 base channels, multipliers [1, 2, 2, 4], attention at 8×8 and in the middle.
 */
export const mnistSmall = {
  imageSize: 32,
  inChannels: 1,
  baseChannels: 32,
  channelMults: [1, 2, 2, 4],
  resBlocks: 1,
  attentionLevels: [2],
  midAttention: true,
  groups: 8,
  dropout: 0,
} as const satisfies UNetSpecInput;

/**
 * A multi-stage, multi-decoder U-Net for MNIST (Zhang et al., "Improving Efficiency of Diffusion
 * Models via Multi-Stage Framework and Tailored Multi-Decoder Architectures", CVPR 2024):
 * `mnistSmall`'s encoder and middle block, shared by every timestep, and one decoder per stage.
 *
 * Stages: the paper's CIFAR-10 split t ∈ [0, 0.442), [0.442, 0.6308), [0.6308, 1], a documented
 * default until `clusterTimesteps` on MNIST gradients proposes boundaries of its own. Decoder
 * widths follow the paper's ordering, widest where noise is lowest (fine detail) and narrowest
 * where it is highest (the optimal denoiser is close to the data mean): base 32, 24, 16, so the
 * low-noise decoder equals mnistSmall's and the others are cheaper: no step costs more than a
 * mnistSmall step (the paper's point is efficiency; on CIFAR-10 it widens the low-noise decoder
 * beyond the encoder, which our CPU training budget does not afford).
 * 4,721,803 parameters (the shared encoder and middle block once, three decoders).
 * groups = 8 divides every level's channels of every decoder (24·[1,2,2,4] = 24…96,
 * 16·[1,2,2,4] = 16…64) and so every concatenated decoder input.
 */
export const mnistMultistage = {
  ...mnistSmall,
  decoderStages: [
    { tStart: 0, tEnd: 0.442, baseChannels: 32 },
    { tStart: 0.442, tEnd: 0.6308, baseChannels: 24 },
    { tStart: 0.6308, tEnd: 1, baseChannels: 16 },
  ],
} as const satisfies UNetSpecInput;

/**
 * A continuous U-Net for MNIST (Calvo-Ordoñez et al., "The Missing U for Efficient Diffusion
 * Models", arXiv:2310.20092): every res block is a second-order neural-ODE block (`block:
 * 'ode2'`), integrated over s ∈ [0, 1] by one classical RK4 step (four vector-field evaluations).
 * `mnistSmall`'s layout at half the width (base 16: 16, 32, 32, 64 channels, N = 4 levels, one
 * block per encoder level, attention at 8×8 and in the middle), about a quarter of its parameters
 * as in the paper: 671,537 against 2,997,793. An ode2 block keeps a 3×3 conv pair on its output
 * width only (a 1×1 projection maps its input to h(0)), which is where the saving beyond the
 * halved width comes from. 0.34 GFLOPs per step at k = 0 (mnistSmall: 0.56).
 */
export const mnistOde2 = {
  ...mnistSmall,
  baseChannels: 16,
  block: 'ode2',
  ode: { solver: 'rk4', steps: 1 },
} as const satisfies UNetSpecInput;

/** Every preset by name (the model zoo's architectures). */
export const presets = { ddpmCifar10, mnistSmall, mnistMultistage, mnistOde2 } as const;
export type PresetName = keyof typeof presets;
