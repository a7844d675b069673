// @ts-check
/**
 * Running the PyTorch peer (scripts/dev/torch-unet-peer.py): a job file in, JSON Lines out, one
 * line per finished unit so each result is stored as soon as it exists. The peer's stderr
 * (its progress) is passed through. Job and output formats are documented in the script.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSample, otherCpu } from './machine.mjs';
import { repositoryRoot } from './workspace.mjs';

export const peerScript = join(repositoryRoot, 'scripts', 'dev', 'torch-unet-peer.py');

/**
 * Whether `python` imports torch.
 *
 * @param {string} python the interpreter
 * @returns {{ available: true, version: string } | { available: false, reason: string }}
 */
export function probeTorch(python) {
  const result = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (result.error) return { available: false, reason: `${python} cannot be run (${result.error.message}); pass --python` };
  if (result.status !== 0) {
    const last = result.stderr.trim().split('\n').pop();
    return {
      available: false,
      reason: `${python} cannot import torch (${last}); install Debian's python3-torch (apt-get install python3-torch) or pass --python`,
    };
  }
  return { available: true, version: result.stdout.trim() };
}

/**
 * Environment for the peer: OpenMP and OpenBLAS get the same thread count as torch's intra-op pool.
 *
 * @param {number} threads
 * @returns {NodeJS.ProcessEnv}
 */
function peerEnvironment(threads) {
  return { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

/**
 * Runs one job. `onMessage(message, cpu)` is called with each JSON object the peer prints, in
 * order; `cpu` is what else ran on the machine since the previous message (or the start), in
 * cores: `otherCpu` of bench/lib/machine.mjs less the peer's own CPU time (its `cpuSeconds`).
 * Rejects when the peer exits non-zero (status 3: parity failure), naming the cause.
 *
 * @param {object} run
 * @param {string} run.python the interpreter
 * @param {import('./types.js').PeerJob} run.job written to a job file in `directory`
 * @param {string} run.directory a temporary folder
 * @param {(message: import('./types.js').PeerMessage, cpu: import('./types.js').OtherCpu | null) => void} run.onMessage
 * @returns {Promise<void>}
 */
export function runTorchPeer({ python, job, directory, onMessage }) {
  const jobFile = join(directory, `torch-job-${Date.now()}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    let previous = { sample: cpuSample(), peerSeconds: 0 };
    const child = spawn(python, [peerScript, '--job', jobFile], { cwd: repositoryRoot, env: peerEnvironment(job.threads), stdio: ['ignore', 'pipe', 'inherit'] });
    /** @type {unknown} */
    let failure;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (failure !== undefined || line.trim() === '') return;
      try {
        const { cpuSeconds, ...message } = JSON.parse(line);
        const now = { sample: cpuSample(), peerSeconds: cpuSeconds ?? previous.peerSeconds };
        const cpu = cpuSeconds === undefined ? null : otherCpu(previous.sample, now.sample, now.peerSeconds - previous.peerSeconds);
        previous = now;
        onMessage(message, cpu);
      } catch (error) {
        failure = error;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (failure !== undefined) reject(failure);
      else if (code === 3) reject(new Error('PyTorch parity check FAILED (see the [torch-peer] lines above): the peer does not compute what levelskip computes'));
      else if (code !== 0) reject(new Error(`the PyTorch peer exited with ${signal ?? `status ${code}`} (see the [torch-peer] lines above)`));
      else resolve();
    });
  });
}
