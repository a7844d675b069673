/**
 * Asking for GPU providers that cannot start prints nothing but levelskip's error (issue 22, items
 * 4 and 5): onnxruntime's "Failed to load library …providers_shared.so" lines stay below the
 * default log level, WebGPU is not probed on a Linux without the Vulkan loader (Dawn would print
 * "Couldn't load Vulkan" straight to the process's stderr, which no log level silences), and the
 * failure reasons read as what is missing, without onnxruntime's source paths and assertions.
 *
 * Native output bypasses `process.stderr`, so the probes run in a child process: the Node entry,
 * bundled from the sources by esbuild.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeMessage, providerFailureReason } from '../src/backend/execution-providers.js';
import { sharedLibraryFound } from '../src/runtime/node-environment.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
// Inside the package's node_modules, so the bundle resolves onnxruntime-node as the package does.
const bundleDirectory = join(packageRoot, 'node_modules', '.levelskip-test');
const bundlePath = join(bundleDirectory, `probe-noise-${process.pid}.mjs`);
const scratch = mkdtempSync(join(tmpdir(), 'levelskip-probe-noise-'));

beforeAll(async () => {
  mkdirSync(bundleDirectory, { recursive: true });
  await build({
    entryPoints: [join(packageRoot, 'src', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundlePath,
    logLevel: 'silent',
    alias: { '@levelskip/core': join(packageRoot, '..', 'core', 'src', 'index-node.ts') },
    external: ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common'],
  });
});

afterAll(() => {
  rmSync(bundlePath, { force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs `createOnnxBackend(options)` in a child; its stdout is the outcome as JSON, its stderr what a user would see. */
function probe(options: object): Promise<{ outcome: { ok: boolean; name?: string; code?: string; message?: string }; stderr: string }> {
  const script = join(scratch, `probe-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import { createOnnxBackend } from ${JSON.stringify(bundlePath)};
try {
  const backend = await createOnnxBackend(${JSON.stringify(options)});
  process.stdout.write(JSON.stringify({ ok: true, name: backend.name }));
  backend.dispose();
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, code: error.code, message: error.message }));
}
`,
  );
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && stdout === '') reject(error);
      else resolve({ outcome: JSON.parse(stdout) as never, stderr });
    });
  });
}

const nativeNoise = /Vulkan|Failed to load library|providers_shared|\[E:onnxruntime|\[W:onnxruntime/;

describe('asking for GPU providers that cannot start', () => {
  it('cuda and webgpu: one levelskip error, nothing on stderr, no native framing in the reasons', async () => {
    const { outcome, stderr } = await probe({ executionProviders: ['cuda', 'webgpu'] });
    expect(stderr).not.toMatch(nativeNoise);
    if (outcome.ok) return expect(outcome.name).toMatch(/^onnx-(cuda|webgpu)$/); // a machine with a GPU
    expect(outcome.code).toBe('BACKEND_UNAVAILABLE');
    expect(outcome.message).toMatch(/cuda: \S.*; webgpu: \S/);
    expect(outcome.message).not.toMatch(/onnxruntime_src|\.cc:\d+|was false|<lambda/);
    expect(stderr).toBe('');
  });

  it('the default (cpu) probes no GPU provider and prints nothing', async () => {
    const { outcome, stderr } = await probe({});
    expect(outcome).toEqual({ ok: true, name: 'onnx-cpu' });
    expect(stderr).toBe('');
  });

  it('webgpu,cpu falls back to the CPU without a word on stderr', async () => {
    const { outcome, stderr } = await probe({ executionProviders: ['webgpu', 'cpu'] });
    expect(outcome.ok).toBe(true);
    expect(stderr).not.toMatch(nativeNoise);
  });
});

describe('failure reasons', () => {
  it("strip onnxruntime's source location, function and assertion", () => {
    const webgpu = new Error(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters',
    );
    expect(nativeMessage(webgpu)).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(providerFailureReason('webgpu', webgpu)).toBe('no WebGPU adapter: no GPU (or GPU driver) that WebGPU can use was found');
    expect(nativeMessage(new Error('/onnxruntime_src/core/session/provider_bridge_ort.cc:1789 Something failed\nmore'))).toBe('Something failed');
    expect(nativeMessage(new Error('/src/session.cc:42 onnxruntime::InferenceSession::Load(const std::string&, int) Load model failed'))).toBe('Load model failed');
    expect(nativeMessage(new Error('[ONNXRuntimeError] : 1 : FAIL : Load model failed'))).toBe('Load model failed');
  });

  it('name the missing CUDA libraries', () => {
    const reason = providerFailureReason('cuda', new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'));
    expect(reason).toBe("onnxruntime-node's CUDA provider libraries are not installed or cannot load (they need CUDA 12 and cuDNN 9)");
  });
});

describe('sharedLibraryFound', () => {
  it('looks in LD_LIBRARY_PATH and the loader cache, and cannot tell without a cache', () => {
    const lib = join(scratch, 'lib');
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(lib, 'libfake-levelskip.so.1'), '');
    const cache = join(scratch, 'ld.so.cache');
    writeFileSync(cache, Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from('libother.so.3\0/usr/lib/libcached-levelskip.so.2\0')]));
    expect(sharedLibraryFound('libfake-levelskip.so.1', { LD_LIBRARY_PATH: `/nowhere:${lib}` }, cache)).toBe(true);
    expect(sharedLibraryFound('libcached-levelskip.so.2', {}, cache)).toBe(true);
    expect(sharedLibraryFound('libabsent-levelskip.so.9', {}, cache)).toBe(false);
    expect(sharedLibraryFound('libabsent-levelskip.so.9', {}, join(scratch, 'no-cache'))).toBeUndefined();
  });
});
