/**
 * Core's `UNetBlocks` in TensorFlow.js: the per-block operations `runLevelSkippingUNet` composes
 * into a (level-skipping) 🤗 diffusers `UNet2DModel` forward. Structure, tensor names and channel
 * counts come from `describeArchitecture`; this file only says how each block computes.
 *
 * Every method runs in `tf.tidy`, returns one new NHWC tensor and leaves its inputs alone, so
 * the same blocks serve inference and (with `tf.Variable` parameters) training.
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture, ResBlockDescription, UNetBlocks } from '@levelskip/core';
import { resizeBicubic } from '../ops/bicubic.js';
import { upsampleNearest2x } from '../ops/upsample-nearest.js';
import { attentionBlock } from './attention.js';
import { createLayers, type LayerOptions, type Layers } from './layers.js';
import type { ParameterSource } from './parameters.js';
import { ode2Block, resnetBlock } from './res-blocks.js';
import { sinusoidalEmbeddingTensor } from './time-embedding.js';

/** Options of `createTfjsBlocks`. */
export type TfjsBlockOptions = LayerOptions;

/**
 * The U-Net blocks of `arch` over `params` (diffusers names, tfjs layouts; see `loadParameters`).
 * Tensors are NHWC; the time embedding is [B, timeEmbedDim].
 */
export function createTfjsBlocks(arch: Architecture, params: ParameterSource, options: TfjsBlockOptions = {}): UNetBlocks<tf.Tensor> {
  const spec = arch.spec;
  const layers: Layers = createLayers(params, spec, options);

  const resBlock = (b: ResBlockDescription, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D =>
    b.kind === 'resnet' ? resnetBlock(layers, b, x, temb) : ode2Block(layers, spec, b, x, temb);

  const blockThenAttention = (
    b: ResBlockDescription,
    attention: Architecture['middle']['attention'],
    x: tf.Tensor,
    temb: tf.Tensor,
  ): tf.Tensor4D =>
    tf.tidy(() => {
      const out = resBlock(b, x as tf.Tensor4D, temb as tf.Tensor2D);
      return attention === undefined ? out : attentionBlock(layers, attention, out);
    });

  return {
    timeEmbedding(timesteps) {
      return tf.tidy(() => {
        const sinusoid = sinusoidalEmbeddingTensor(timesteps, arch.timeEmbedding.inChannels, {
          flipSinToCos: spec.flipSinToCos,
          freqShift: spec.freqShift,
        });
        return layers.linear('time_embedding.linear_2', layers.silu(layers.linear('time_embedding.linear_1', sinusoid)));
      });
    },
    inputConv(x) {
      return tf.tidy(() => layers.conv(arch.convIn.prefix, x as tf.Tensor4D));
    },
    encoderBlock(level, index, h, temb) {
      const l = arch.encoder[level]!;
      return blockThenAttention(l.blocks[index]!, l.attentions[index], h, temb);
    },
    downsample(level, h) {
      const d = arch.encoder[level]!.downsample!;
      // downsamplePadding 0 is DDPM's asymmetric pad: one zero row/column on the bottom/right only.
      const padding = spec.downsamplePadding === 1 ? 1 : { top: 0, bottom: 1, left: 0, right: 1 };
      return tf.tidy(() => layers.conv(d.prefix, h as tf.Tensor4D, { stride: 2, padding }));
    },
    middle(h, temb) {
      return tf.tidy(() => {
        const [first, second] = arch.middle.blocks;
        return resBlock(second, blockThenAttention(first, arch.middle.attention, h, temb), temb as tf.Tensor2D);
      });
    },
    decoderBlock(stage, level, index, h, temb) {
      const l = arch.decoders[stage]!.levels[level]!;
      return blockThenAttention(l.blocks[index]!, l.attentions[index], h, temb);
    },
    upsample(stage, level, h) {
      const u = arch.decoders[stage]!.levels[level]!.upsample!;
      return tf.tidy(() => {
        return layers.conv(u.prefix, upsampleNearest2x(h as tf.Tensor4D));
      });
    },
    output(stage, h) {
      const d = arch.decoders[stage]!;
      return tf.tidy(() => layers.conv(d.convOut.prefix, layers.silu(layers.groupNorm(d.normOut.prefix, h as tf.Tensor4D))));
    },
    sideEncoder(level, skip) {
      const size = arch.middle.size;
      return tf.tidy(() => layers.conv(arch.sideEncoder[level]!.projection.prefix, resizeBicubic(skip as tf.Tensor4D, size, size)));
    },
    sideDecoder(stage, level, middle) {
      const size = arch.sizes[level]!;
      const projection = arch.decoders[stage]!.sideDecoder[level]!.projection;
      return tf.tidy(() => layers.conv(projection.prefix, resizeBicubic(middle as tf.Tensor4D, size, size)));
    },
  };
}
