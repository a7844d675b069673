#!/usr/bin/env node
/**
 * Serves the built page (dist/) on 127.0.0.1 with the cross-origin isolation headers
 * (COOP same-origin, COEP require-corp), so `crossOriginIsolated` is true and the wasm engines of
 * ONNX Runtime Web and TensorFlow.js can run multi-threaded. 127.0.0.1 is a secure context, which
 * WebGPU needs.
 *
 *   node scripts/serve.mjs [--port 5173] [--dir dist]
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/**
 * Starts the server; resolves with its URL and a `close()`. Port 0 picks a free one. `onRequest`
 * sees each request's path and status (the browser test uses it to see what the page fetched).
 */
export async function servePage({ dir = fileURLToPath(new URL('../dist', import.meta.url)), port = 5173, host = '127.0.0.1', onRequest = undefined } = {}) {
  const root = resolve(dir);
  const server = createServer(async (request, response) => {
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-store');
    let path;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      response.statusCode = 400;
      return void response.end();
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root + sep)) {
      response.statusCode = 403;
      return void response.end();
    }
    const info = await stat(file).catch(() => undefined);
    onRequest?.(path, info?.isFile() ? 200 : 404);
    if (info === undefined || !info.isFile()) {
      response.statusCode = 404;
      return void response.end('not found');
    }
    response.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
    response.setHeader('Content-Length', info.size);
    createReadStream(file).pipe(response);
  });
  await new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolvePromise);
  });
  const address = server.address();
  return { url: `http://${host}:${address.port}/`, close: () => new Promise((r) => server.close(r)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = (name, fallback) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const { url } = await servePage({ port: Number(flag('--port', '5173')), ...(flag('--dir') === undefined ? {} : { dir: flag('--dir') }) });
  console.log(`levelskip demo: ${url} (cross-origin isolated; Ctrl-C stops)`);
}
