/** Registration bookkeeping of registerWasmTrainingKernels: idempotence, restore, errors. */
import { isLevelskipError } from '@levelskip/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WASM_TRAINING_KERNEL_NAMES,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../../src/gradients/register-wasm-gradients.js';
import { initEngines, tf } from './engines.js';

const ALL = ['BatchMatMul', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];
let nativeInput: tf.KernelConfig | undefined;
let nativeMatMul: tf.KernelConfig | undefined;

beforeAll(async () => {
  await initEngines();
  nativeInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  nativeMatMul = tf.getKernel('BatchMatMul', 'wasm');
});

afterAll(() => {
  unregisterWasmTrainingKernels(tf);
});

describe('registerWasmTrainingKernels', () => {
  it('fills Conv2DBackpropFilter, replaces Conv2DBackpropInput and BatchMatMul, and is a no-op the second time', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(nativeInput).toBeDefined();
    expect(registerWasmTrainingKernels(tf).sort()).toEqual(ALL);
    expect([...WASM_TRAINING_KERNEL_NAMES].sort()).toEqual(ALL);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const replaced = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(replaced.kernelFunc).not.toBe(nativeInput?.kernelFunc);
    // The native kernel's setup must survive, for backends initialised after registration.
    expect(replaced.setupFunc).toBe(nativeInput?.setupFunc);
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).not.toBe(nativeMatMul?.kernelFunc);
    expect(tf.getKernel('BatchMatMul', 'wasm').setupFunc).toBe(nativeMatMul?.setupFunc);

    expect(registerWasmTrainingKernels(tf)).toEqual([]);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(replaced);
  });

  it('unregisterWasmTrainingKernels restores wasm’s own kernels', () => {
    registerWasmTrainingKernels(tf);
    expect(unregisterWasmTrainingKernels(tf).sort()).toEqual(ALL);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc).toBe(nativeInput?.kernelFunc);
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).toBe(nativeMatMul?.kernelFunc);
    expect(unregisterWasmTrainingKernels(tf)).toEqual([]);
    expect(registerWasmTrainingKernels(tf).sort()).toEqual(ALL);
  });

  it('throws BACKEND_UNAVAILABLE when the wasm kernels are not registered', () => {
    const noWasm = { ...tf, getKernel: () => undefined } as unknown as typeof tf;
    let thrown: unknown;
    try {
      registerWasmTrainingKernels(noWasm);
    } catch (error) {
      thrown = error;
    }
    expect(isLevelskipError(thrown) && thrown.code).toBe('BACKEND_UNAVAILABLE');
  });
});
