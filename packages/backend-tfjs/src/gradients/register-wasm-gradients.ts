/**
 * Registers the kernels that training needs on the tfjs wasm engine, built from wasm's fast
 * XNNPACK convolution:
 *
 * - `Conv2DBackpropFilter` — absent from tfjs-backend-wasm 4.22, so no conv can be trained
 *   there without it (see scripts/audit-wasm-kernels.mjs).
 * - `Conv2DBackpropInput` — present but a generic loop ~10× slower than the forward conv;
 *   replaced by one forward conv (flipped filter; sub-pixel phases for stride > 1), keeping the
 *   original for strides it does not take.
 * - `BatchMatMul` — present, but fast only for unbatched products without transpose flags, and
 *   backprop through a matMul asks for transposed ones; wrapped to route those onto the fast
 *   case (batch-mat-mul.ts), keeping the original for the rest.
 *
 * Kernels live in tfjs's global registry (`tf.registerKernel`), so registration affects every
 * user of the same tfjs engine in the process. Ops run inside a kernel are not recorded on the
 * gradient tape (the engine turns the tape off while `kernelDepth > 0`), so building a kernel
 * from public ops is safe under `tf.grad`.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { LevelskipError } from '@levelskip/core';
import { makeBatchMatMulKernel } from './batch-mat-mul.js';
import { makeConv2DBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInputKernel } from './conv2d-backprop-input.js';
import type { Tfjs } from './conv2d-geometry.js';

const BACKEND = 'wasm';

/** Marks our kernel functions, across duplicated copies of this package, and remembers the
 * kernel each one replaced so it can be restored. */
const REPLACED = Symbol.for('levelskip.wasmTrainingKernel.replaced');

interface BrandedKernelFunc extends tfjs.KernelFunc {
  [REPLACED]: tfjs.KernelConfig | null;
}

interface TrainingKernel {
  readonly kernelName: string;
  /**
   * 'fill': register only where wasm has none. 'replace': replace wasm's kernel, which ours falls
   * back to (registered even where wasm has none). 'wrap': replace wasm's kernel, only if it has
   * one.
   */
  readonly mode: 'fill' | 'replace' | 'wrap';
  readonly make: (tf: Tfjs, original: tfjs.KernelFunc | undefined) => tfjs.KernelFunc;
}

const TRAINING_KERNELS: readonly TrainingKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    mode: 'fill',
    make: (tf) => makeConv2DBackpropFilterKernel(tf),
  },
  {
    kernelName: 'Conv2DBackpropInput',
    mode: 'replace',
    make: (tf, original) => makeConv2DBackpropInputKernel(tf, original),
  },
  {
    kernelName: 'BatchMatMul',
    mode: 'wrap',
    make: (tf, original) => {
      if (original === undefined) throw new Error('unreachable: wrap mode needs an original');
      return makeBatchMatMulKernel(tf, original);
    },
  },
];

function isOurs(config: tfjs.KernelConfig | undefined): config is tfjs.KernelConfig & { kernelFunc: BrandedKernelFunc } {
  return config !== undefined && REPLACED in config.kernelFunc;
}

/** The names of the kernels {@link registerWasmTrainingKernels} provides. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = TRAINING_KERNELS.map((k) => k.kernelName);

/**
 * Registers, for the tfjs `'wasm'` backend, the kernels that training needs and wasm lacks or
 * runs slowly (`Conv2DBackpropFilter`, `Conv2DBackpropInput`, `BatchMatMul`). Idempotent: a
 * kernel already registered by this function (from any copy of this package) is left alone. A
 * `Conv2DBackpropFilter` that a future tfjs-backend-wasm ships itself is kept.
 *
 * Call after `import '@tensorflow/tfjs-backend-wasm'` (which registers wasm's kernels); the
 * wasm backend need not be initialised yet.
 *
 * @param tf - the tfjs namespace (`import * as tf from '@tensorflow/tfjs'`).
 * @returns the kernel names registered by this call (empty when all were already registered).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the wasm kernels are not registered.
 */
export function registerWasmTrainingKernels(tf: Tfjs): string[] {
  if (tf.getKernel('Conv2D', BACKEND) === undefined) {
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      "The tfjs wasm kernels are not registered: `import '@tensorflow/tfjs-backend-wasm'` " +
        '(same tfjs-core as the `tf` passed in) before calling registerWasmTrainingKernels.',
    );
  }
  const registered: string[] = [];
  for (const kernel of TRAINING_KERNELS) {
    const existing = tf.getKernel(kernel.kernelName, BACKEND) as tfjs.KernelConfig | undefined;
    if (isOurs(existing)) continue;
    if (existing !== undefined && kernel.mode === 'fill') continue;
    if (existing === undefined && kernel.mode === 'wrap') continue;
    const kernelFunc = kernel.make(tf, existing?.kernelFunc) as BrandedKernelFunc;
    kernelFunc[REPLACED] = existing ?? null;
    if (existing !== undefined) tf.unregisterKernel(kernel.kernelName, BACKEND);
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: BACKEND,
      kernelFunc,
      // The replaced kernel's setup must still run if the wasm backend initialises later,
      // because our kernel may fall back to it.
      ...(existing?.setupFunc === undefined ? {} : { setupFunc: existing.setupFunc }),
      ...(existing?.disposeFunc === undefined ? {} : { disposeFunc: existing.disposeFunc }),
    });
    registered.push(kernel.kernelName);
  }
  return registered;
}

/**
 * Undoes {@link registerWasmTrainingKernels}: removes the kernels it added and restores the ones
 * it replaced. For benchmarks and tests that compare against wasm's own kernels.
 *
 * @returns the kernel names unregistered or restored.
 */
export function unregisterWasmTrainingKernels(tf: Tfjs): string[] {
  const removed: string[] = [];
  for (const kernel of TRAINING_KERNELS) {
    const existing = tf.getKernel(kernel.kernelName, BACKEND) as tfjs.KernelConfig | undefined;
    if (!isOurs(existing)) continue;
    const replaced = existing.kernelFunc[REPLACED];
    tf.unregisterKernel(kernel.kernelName, BACKEND);
    if (replaced !== null) tf.registerKernel(replaced);
    removed.push(kernel.kernelName);
  }
  return removed;
}
