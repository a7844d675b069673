/**
 * Weights cross into tfjs once, at load: core's `NamedTensors` use PyTorch layouts (OIHW
 * convolution kernels, [out, in] linear weights), tfjs wants HWIO kernels and [in, out] matrices
 * (y = x W with x [B, in]). Transposing on the host here keeps every prediction free of
 * per-call weight transposes. Names stay the diffusers names.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor, NamedTensors } from '@levelskip/core';

/**
 * Where the U-Net blocks read their parameters: diffusers names → tensors in tfjs layouts
 * (HWIO kernels, [in, out] linear weights, [C] biases and norm parameters). A training loop
 * passes `tf.Variable`s through the same blocks.
 */
export type ParameterSource = ReadonlyMap<string, tf.Tensor>;

/** Transposes a row-major tensor by `perm` (out axis i = in axis perm[i]) on the host. */
function transposeHost(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1]! * shape[d + 1]!;
  const outShape = perm.map((p) => shape[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += index[d]! * inStrides[perm[d]!]!;
    out[i] = data[src]!;
    // Odometer increment over the output shape.
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

/** OIHW → HWIO for rank-4 kernels, [out, in] → [in, out] for matrices; other ranks are copied. */
export function toTfjsLayout(host: HostTensor): HostTensor {
  const { shape, data } = host;
  if (shape.length === 4) return { shape: [shape[2]!, shape[3]!, shape[1]!, shape[0]!], data: transposeHost(data, shape, [2, 3, 1, 0]) };
  if (shape.length === 2) return { shape: [shape[1]!, shape[0]!], data: transposeHost(data, shape, [1, 0]) };
  return { shape: [...shape], data: data.slice() };
}

/** The inverse of `toTfjsLayout`: HWIO → OIHW, [in, out] → [out, in]. */
export function fromTfjsLayout(host: HostTensor): HostTensor {
  const { shape, data } = host;
  if (shape.length === 4) return { shape: [shape[3]!, shape[2]!, shape[0]!, shape[1]!], data: transposeHost(data, shape, [3, 2, 0, 1]) };
  if (shape.length === 2) return { shape: [shape[1]!, shape[0]!], data: transposeHost(data, shape, [1, 0]) };
  return { shape: [...shape], data: data.slice() };
}

/**
 * Uploads PyTorch-layout weights as tfjs tensors in tfjs layouts (copies: later changes to the
 * caller's arrays do not reach the model). The caller owns the tensors.
 */
export function loadParameters(weights: NamedTensors): Map<string, tf.Tensor> {
  const params = new Map<string, tf.Tensor>();
  try {
    for (const [name, host] of weights) {
      const converted = toTfjsLayout(host);
      params.set(name, tf.tensor(converted.data, [...converted.shape], 'float32'));
    }
  } catch (error) {
    tf.dispose([...params.values()]);
    throw error;
  }
  return params;
}

/** Reads parameters back to the host in PyTorch layouts (e.g. to save a checkpoint after training). */
export async function exportParameters(params: ParameterSource): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, tensor] of params) {
    const data = Float32Array.from((await tensor.data()) as Float32Array);
    out.set(name, fromTfjsLayout({ shape: tensor.shape, data }));
  }
  return out;
}
