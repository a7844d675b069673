/**
 * FD-LeNet's classifier, run in plain TypeScript: a small LeNet-5-style CNN trained on MNIST by
 * levelskip (see lenet-architecture.ts and weights/lenet.json). Its fc2 outputs are the feature
 * space of FD-LeNet, a Fréchet distance for generated MNIST digits. It is NOT the Inception
 * network of FID (Heusel et al. 2017): FD-LeNet values are comparable only with FD-LeNet values
 * computed with the same weights file.
 */
import { LevelskipError, parseSafetensors, type HostTensor, type NamedTensors } from '@levelskip/core';
import { checkImageBatch, lenetImageValues } from './image-batch.js';
import { conv2dValid, linear, maxPool2, reluInPlace, type FeatureMap } from './layers.js';
import { lenetClasses, lenetFeatureDim, lenetImageSize, lenetKernelSize, lenetTensorShapes } from './lenet-architecture.js';

/** The classifier, ready to run. */
export interface Lenet {
  /** Length of each feature vector: 84 (fc2's outputs, before its ReLU). */
  readonly featureDim: number;
  /** Number of classes: 10. */
  readonly classes: number;
  /**
   * FD features of a batch: fc2's 84 outputs before the ReLU that follows it, per image.
   *
   * @param images NCHW float32, `count × 1 × 32 × 32`, in [-1, 1] (values outside are clamped to [-1, 1]).
   * @returns `count × 84` values, row-major.
   * @throws LevelskipError `INVALID_OPTION` / `INVALID_SHAPE` for a bad batch (see checkImageBatch).
   */
  features(images: Float32Array, count: number): Float32Array;
  /** The 10 class logits per image, `count × 10` row-major (same input as `features`). */
  logits(images: Float32Array, count: number): Float32Array;
  /** The predicted digit (argmax of the logits) per image. */
  classify(images: Float32Array, count: number): Uint8Array;
}

/** The weights file's name in a weights directory (the package ships `weights/lenet.safetensors`). */
export const lenetWeightsFileName = 'lenet.safetensors';

function checkTensors(tensors: NamedTensors): void {
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(lenetTensorShapes)) {
    const tensor = tensors.get(name);
    if (tensor === undefined) problems.push(`${name} is missing`);
    else if (tensor.shape.length !== shape.length || tensor.shape.some((size, i) => size !== shape[i])) {
      problems.push(`${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  for (const name of tensors.keys()) if (!Object.hasOwn(lenetTensorShapes, name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length > 0) {
    throw new LevelskipError('WEIGHTS_MISMATCH', `These weights are not FD-LeNet's architecture: ${problems.join('; ')}. Use weights/lenet.safetensors of @levelskip/metrics.`, {
      issues: problems.map((message) => ({ path: ['weights'], message })),
    });
  }
}

/**
 * Builds the classifier from weights in PyTorch layout (`conv1.weight` [16, 1, 5, 5], …; see
 * `lenetTensorShapes`).
 *
 * @throws LevelskipError `WEIGHTS_MISMATCH` naming each missing, unexpected or misshapen tensor.
 */
export function createLenet(tensors: NamedTensors): Lenet {
  checkTensors(tensors);
  const get = (name: string): Float32Array => (tensors.get(name) as HostTensor).data;
  const conv1 = { weight: get('conv1.weight'), bias: get('conv1.bias') };
  const conv2 = { weight: get('conv2.weight'), bias: get('conv2.bias') };
  const fc1 = { weight: get('fc1.weight'), bias: get('fc1.bias') };
  const fc2 = { weight: get('fc2.weight'), bias: get('fc2.bias') };
  const fc3 = { weight: get('fc3.weight'), bias: get('fc3.bias') };

  /** fc2's outputs (pre-ReLU) for image `n`, its input clamped to [-1, 1]. */
  function featuresOf(images: Float32Array, n: number): Float32Array {
    const input = new Float32Array(lenetImageValues);
    const offset = n * lenetImageValues;
    for (let i = 0; i < lenetImageValues; i++) input[i] = Math.min(1, Math.max(-1, images[offset + i]!));
    const x: FeatureMap = { channels: 1, height: lenetImageSize, width: lenetImageSize, data: input };
    const h1 = maxPool2(reluInPlace(conv2dValid(x, conv1.weight, conv1.bias, lenetKernelSize)));
    const h2 = maxPool2(reluInPlace(conv2dValid(h1, conv2.weight, conv2.bias, lenetKernelSize)));
    // CHW flattening, as torch's x.flatten(1) on NCHW activations.
    const h3 = reluInPlace(linear(h2.data, fc1.weight, fc1.bias));
    return linear(h3, fc2.weight, fc2.bias);
  }

  function logitsOf(feature: Float32Array): Float32Array {
    return linear(reluInPlace(Float32Array.from(feature)), fc3.weight, fc3.bias);
  }

  function logits(images: Float32Array, count: number): Float32Array {
    checkImageBatch(images, count, 'images');
    const out = new Float32Array(count * lenetClasses);
    for (let n = 0; n < count; n++) out.set(logitsOf(featuresOf(images, n)), n * lenetClasses);
    return out;
  }

  return {
    featureDim: lenetFeatureDim,
    classes: lenetClasses,
    features(images, count) {
      checkImageBatch(images, count, 'images');
      const out = new Float32Array(count * lenetFeatureDim);
      for (let n = 0; n < count; n++) out.set(featuresOf(images, n), n * lenetFeatureDim);
      return out;
    },
    logits,
    classify(images, count) {
      const scores = logits(images, count);
      const out = new Uint8Array(count);
      for (let n = 0; n < count; n++) {
        let best = 0;
        for (let c = 1; c < lenetClasses; c++) if (scores[n * lenetClasses + c]! > scores[n * lenetClasses + best]!) best = c;
        out[n] = best;
      }
      return out;
    },
  };
}

/**
 * The classifier from a `lenet.safetensors` file's bytes (fetched in a browser, e.g. from where
 * this package's `weights/` directory is served).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for bytes that are not safetensors, `WEIGHTS_MISMATCH`
 *   for another architecture's tensors.
 */
export function lenetFromSafetensors(bytes: Uint8Array | ArrayBuffer): Lenet {
  return createLenet(parseSafetensors(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).tensors);
}
