/**
 * The Node.js entry's environment: onnxruntime-node by default, the CPU count from `node:os`, and
 * a check for the system library WebGPU needs. Only `src/index.ts` (the package's
 * `import`/`require` build) reaches this file; browser bundles get `browser-environment.ts` instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadOnnxRuntime, type OnnxRuntimeName, type RuntimeEnvironment } from './onnx-runtime.js';

/** Debian-style multiarch directories of the dynamic loader, by `process.arch`. */
const multiarch: Readonly<Record<string, string>> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' };

/**
 * Whether the dynamic loader can find shared library `name` (e.g. `libvulkan.so.1`), judged from
 * `LD_LIBRARY_PATH`, the loader's cache and its default directories; `undefined` where that cannot
 * be judged (no /etc/ld.so.cache: musl, NixOS), so callers fall back to trying.
 */
export function sharedLibraryFound(name: string, env: Readonly<Record<string, string | undefined>> = process.env, cachePath = '/etc/ld.so.cache'): boolean | undefined {
  const triplet = multiarch[process.arch];
  const directories = [
    ...(env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== ''),
    '/lib',
    '/usr/lib',
    '/lib64',
    '/usr/lib64',
    '/usr/local/lib',
    ...(triplet === undefined ? [] : [`/lib/${triplet}`, `/usr/lib/${triplet}`]),
  ];
  try {
    if (directories.some((directory) => existsSync(join(directory, name)))) return true;
    // The cache lists every library of the configured directories by name (a binary file; its names are plain bytes).
    return readFileSync(cachePath).includes(name) ? true : false;
  } catch {
    return undefined;
  }
}

/**
 * onnxruntime-node's WebGPU runs on Dawn, which on Linux needs the Vulkan loader: without it Dawn
 * prints `Warning: Couldn't load Vulkan: libvulkan.so.1 …` to stderr (no log level silences it)
 * and finds no adapter. So a Linux without libvulkan.so.1 fails `webgpu` here, unprobed.
 */
function providerUnavailable(name: OnnxRuntimeName, provider: string): string | undefined {
  if (name !== 'onnxruntime-node' || provider !== 'webgpu' || process.platform !== 'linux') return undefined;
  if (sharedLibraryFound('libvulkan.so.1') !== false) return undefined;
  return 'no WebGPU adapter: onnxruntime-node runs WebGPU on Vulkan here, and the Vulkan loader (libvulkan.so.1) is not installed (e.g. apt install libvulkan1 and a GPU driver with Vulkan support)';
}

export const nodeEnvironment: RuntimeEnvironment = {
  loadDefaultRuntime: () =>
    loadOnnxRuntime(
      'onnxruntime-node',
      () => import('onnxruntime-node'),
      'Install it next to @levelskip/backend-onnx: npm i onnxruntime-node (where its install script cannot download, e.g. offline: ' +
        'ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node; the CPU provider needs no download).',
    ),
  hardwareConcurrency: availableParallelism,
  providerUnavailable,
};
