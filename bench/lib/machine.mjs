// @ts-check
/**
 * What a result depends on besides the code: the CPU, the runtimes' versions, the BLAS PyTorch
 * links against, the load on the machine and the commit measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dependencyVersion, repositoryRoot } from './workspace.mjs';

/** @returns {string} the CPU's name */
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

/**
 * The machine: results from different machines never share a file.
 *
 * @returns {import('./types.js').Machine}
 */
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

/**
 * A file-name-safe label for the machine, e.g. `intel-r-xeon-r-processor-2c`.
 *
 * @param {import('./types.js').Machine} machine
 * @returns {string}
 */
export function machineSlug(machine) {
  const name = machine.cpuModel
    .toLowerCase()
    .replace(/\((r|tm)\)/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48);
  return `${name}-${machine.cores}c`;
}

/**
 * One decimal place is what load averages carry.
 *
 * @returns {number[]} the 1-, 5- and 15-minute load averages
 */
export function loadAverage() {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

/** @type {number | undefined} */
let clockTicks;
/**
 * Clock ticks per second of /proc/stat's counters (USER_HZ; 100 on Linux unless getconf says otherwise).
 *
 * @returns {number}
 */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    const out = run('getconf', ['CLK_TCK']);
    const n = Number(out);
    clockTicks = out !== null && Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/**
 * CPU seconds used so far by the whole machine (busy: user, nice, system, irq, softirq over all
 * cores; steal: taken by the hypervisor) and by this process (every thread, onnxruntime's
 * included). Linux only: elsewhere the machine's fields are null. Pair two samples with
 * `otherCpu`.
 *
 * @returns {import('./types.js').CpuSample}
 */
export function cpuSample() {
  /** @type {number | null} */
  let busySeconds = null;
  /** @type {number | null} */
  let stealSeconds = null;
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    if ([user, nice, system, irq, softirq, steal].every(Number.isFinite)) {
      busySeconds = (user + nice + system + irq + softirq) / ticksPerSecond();
      stealSeconds = steal / ticksPerSecond();
    }
  } catch {
    // Not Linux: no machine-wide counters.
  }
  const own = process.cpuUsage();
  return { busySeconds, stealSeconds, ownSeconds: (own.user + own.system) / 1e6, wallSeconds: performance.now() / 1000 };
}

/**
 * What ran besides this process between two `cpuSample`s, in cores on average: `otherCores` is
 * the machine's busy time minus this process's own (other processes, the kernel's own threads),
 * `stealCores` the time the hypervisor gave to other guests. Unlike the load average, neither
 * counts the benchmark itself, so a quiet machine reads ≈ 0 while a benchmark saturates it.
 * `childSeconds`: CPU seconds a child process the benchmark runs (the PyTorch peer) used in the
 * interval, which are the benchmark's own too. Null where the machine's counters are missing.
 *
 * @param {import('./types.js').CpuSample} before
 * @param {import('./types.js').CpuSample} after
 * @param {number} [childSeconds] CPU seconds of a child process in the interval
 * @returns {import('./types.js').OtherCpu | null}
 */
export function otherCpu(before, after, childSeconds = 0) {
  const wall = after.wallSeconds - before.wallSeconds;
  if (before.busySeconds === null || after.busySeconds === null || !(wall > 0)) return null;
  const other = after.busySeconds - before.busySeconds - (after.ownSeconds - before.ownSeconds) - childSeconds;
  const round = (/** @type {number} */ v) => Math.round(Math.max(0, v) * 100) / 100;
  // stealSeconds is null exactly when busySeconds is (both come from the same /proc/stat line).
  const steal = /** @type {number} */ (after.stealSeconds) - /** @type {number} */ (before.stealSeconds);
  return { otherCores: round(other / wall), stealCores: round(steal / wall) };
}

/**
 * A command's trimmed stdout, or null when it cannot run or fails.
 *
 * @param {string} command
 * @param {string[]} args
 * @returns {string | null}
 */
function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: repositoryRoot }).trim();
  } catch {
    return null;
  }
}

/**
 * Debian package status, e.g. `{ installed: true, version: '0.3.21+ds-4' }` (null fields off Debian).
 *
 * @param {string} name
 * @returns {import('./types.js').DebianPackage}
 */
export function debianPackage(name) {
  const out = run('dpkg-query', ['-W', '-f=${Status}\t${Version}', name]);
  if (out === null) return { name, installed: false, version: null };
  const [status, version] = out.split('\t');
  return { name, installed: status === 'install ok installed', version: version || null };
}

/**
 * Read-only git facts: the commit and whether the work tree differs from it.
 *
 * @returns {import('./types.js').GitInfo}
 */
export function gitInfo() {
  const commit = run('git', ['rev-parse', 'HEAD']);
  const status = run('git', ['status', '--porcelain']);
  return { commit, dirty: status === null ? null : status.length > 0 };
}

/**
 * Versions of node and the JS runtimes (torch's come from the peer itself).
 *
 * @returns {import('./types.js').RuntimeVersions}
 */
export function runtimeVersions() {
  return {
    node: process.version,
    onnxruntimeNode: dependencyVersion('backend-onnx', 'onnxruntime-node'),
    tfjs: dependencyVersion('backend-tfjs', '@tensorflow/tfjs'),
    tfjsBackendWasm: dependencyVersion('backend-tfjs', '@tensorflow/tfjs-backend-wasm'),
    tfjsNode: dependencyVersion('backend-tfjs', '@tensorflow/tfjs-node'),
  };
}
