/**
 * What a result depends on besides the code: the CPU, the runtimes' versions, the BLAS PyTorch
 * links against, the load on the machine and the commit measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { dependencyVersion, repositoryRoot } from './workspace.mjs';

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: os.cpus() still names the CPU.
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The machine: results from different machines never share a file. */
export function machineInfo() {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    hostname: hostname(),
  };
}

/** A file-name-safe label for the machine, e.g. `intel-r-xeon-r-processor-2c`. */
export function machineSlug(machine) {
  const name = machine.cpuModel
    .toLowerCase()
    .replace(/\((r|tm)\)/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48);
  return `${name}-${machine.cores}c`;
}

/** One decimal place is what load averages carry. */
export function loadAverage() {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: repositoryRoot }).trim();
  } catch {
    return null;
  }
}

/** Debian package status, e.g. `{ installed: true, version: '0.3.21+ds-4' }` (null fields off Debian). */
export function debianPackage(name) {
  const out = run('dpkg-query', ['-W', '-f=${Status}\t${Version}', name]);
  if (out === null) return { name, installed: false, version: null };
  const [status, version] = out.split('\t');
  return { name, installed: status === 'install ok installed', version: version || null };
}

/** Read-only git facts: the commit and whether the work tree differs from it. */
export function gitInfo() {
  const commit = run('git', ['rev-parse', 'HEAD']);
  const status = run('git', ['status', '--porcelain']);
  return { commit, dirty: status === null ? null : status.length > 0 };
}

/** Versions of node and the JS runtimes (torch's come from the peer itself). */
export function runtimeVersions() {
  return {
    node: process.version,
    onnxruntimeNode: dependencyVersion('backend-onnx', 'onnxruntime-node'),
    tfjs: dependencyVersion('backend-tfjs', '@tensorflow/tfjs'),
    tfjsBackendWasm: dependencyVersion('backend-tfjs', '@tensorflow/tfjs-backend-wasm'),
    tfjsNode: dependencyVersion('backend-tfjs', '@tensorflow/tfjs-node'),
  };
}
