/**
 * Turning a kernel's `TensorInfo` inputs into tensors the public tfjs ops accept.
 *
 * tfjs kernels receive `TensorInfo`s; ops invoked through the engine pass real `Tensor`s, but a
 * backend may call a kernel directly with bare infos. A wrapper shares the info's data and takes
 * one backend reference, so the enclosing `tf.tidy` releases it without freeing the caller's data.
 *
 * Also a fast unstack for the wasm backend: its Slice kernel first copies the WHOLE input out of
 * wasm memory (`readSync`), so unstacking n slices costs n full copies (measured: 10 ms for
 * 8 × [256, 256] vs 0.13 ms copying each slice straight between heap views).
 */
import type * as tfjs from '@tensorflow/tfjs';
import { LevelskipError } from '@levelskip/core';
import type { Tfjs } from './conv2d-geometry.js';

/** A tensor over the data of `info` (itself when it is one); call inside `tf.tidy`. */
export function asTensor(tf: Tfjs, info: tfjs.TensorInfo): tfjs.Tensor {
  if (info instanceof tf.Tensor) return info;
  // The wrapper shares the caller's data: take a backend reference so disposing it (at the end
  // of the tidy) does not free the caller's input.
  const engine = tf.engine();
  engine.backend.incRef(info.dataId);
  return engine.makeTensorFromTensorInfo(info);
}

/** A rank-4 tensor over the data of `info`; call inside `tf.tidy`. */
export function asTensor4D(tf: Tfjs, info: tfjs.TensorInfo | undefined, name: string): tfjs.Tensor4D {
  if (info === undefined) {
    // Only reachable through a malformed engine call, never through the tfjs ops.
    throw new LevelskipError('INTERNAL', `wasm gradient kernel called without input '${name}'; call it through the tfjs ops.`);
  }
  const tensor = asTensor(tf, info);
  if (tensor.rank !== 4) {
    throw new LevelskipError(
      'INVALID_SHAPE',
      `wasm gradient kernel: input '${name}' must be rank 4, got shape [${tensor.shape.join(', ')}]; pass NHWC/NCHW 4-D tensors.`,
    );
  }
  return tensor as tfjs.Tensor4D;
}

/** The two methods of tfjs-backend-wasm's BackendWasm that every wasm kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tfjs.TensorInfo;
  typedArrayFromHeap(info: tfjs.TensorInfo): Float32Array;
}

function isWasmHeapBackend(backend: unknown): backend is WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend> | null;
  return typeof b?.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function';
}

/**
 * `tf.unstack(t)` along axis 0 for a float32 tensor on the active backend, copying each slice
 * directly in wasm memory when the backend is wasm. Call inside `tf.tidy`.
 */
export function unstackRows(tf: Tfjs, t: tfjs.Tensor): tfjs.Tensor[] {
  const backend = tf.backend();
  if (t.dtype !== 'float32' || !isWasmHeapBackend(backend)) return tf.unstack(t);
  const [count = 0, ...rest] = t.shape;
  const per = rest.reduce((p, d) => p * d, 1);
  const slices: tfjs.Tensor[] = [];
  for (let i = 0; i < count; i++) {
    const out = backend.makeOutput(rest, 'float32');
    // Views are taken after makeOutput: its malloc may grow wasm memory and detach older views.
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(t).subarray(i * per, (i + 1) * per));
    slices.push(tf.engine().makeTensorFromTensorInfo(out));
  }
  return slices;
}
