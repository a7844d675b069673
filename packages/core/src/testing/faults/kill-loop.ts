/**
 * kill -9 loops: the crash-consistency test for anything levelskip writes. A child process writes
 * over and over (a checkpoint, an export, an image); the loop kills it with SIGKILL at a random,
 * seeded moment, then asks `check` whether what is on disk is the old or the new state, whole.
 * Repeated `trials` times, this finds the kill windows where a writer leaves a mixed or
 * half-written state (the issue that motivated it: 11 of 30 kills during a checkpoint overwrite
 * left a directory that no longer loaded).
 *
 * Node only (spawns processes); not part of the browser-safe `@levelskip/core/testing` entry.
 */
import { spawn } from 'node:child_process';
import { LevelskipError } from '../../errors/levelskip-error.js';

/** What one trial did, passed to `check`. */
export interface KillTrial {
  /** 0-based trial number. */
  readonly index: number;
  /** Milliseconds between the child's ready line (or its start) and the kill. */
  readonly delayMs: number;
  /** True when the child was killed; false when it exited on its own first. */
  readonly killed: boolean;
  /** The child's exit code when it exited on its own. */
  readonly exitCode: number | null;
  /** Everything the child wrote to stdout and stderr (for the child to report progress). */
  readonly stdout: string;
  readonly stderr: string;
}

export interface KillLoopOptions {
  /** The child's JavaScript entry (an .mjs/.js file; see `bundleChildScript` for TypeScript). */
  readonly script: string;
  /** Arguments after the script. A function gets the trial number. */
  readonly args?: readonly string[] | ((index: number) => readonly string[]);
  /** Number of kills (default 20). */
  readonly trials?: number;
  /** Seed of the kill moments, so a failing trial can be replayed (default 1). */
  readonly seed?: number;
  /** The kill comes uniformly at random in [minDelayMs, maxDelayMs] after the child is ready (defaults 0 and 200). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * A line the child prints on stdout once it starts writing; the kill timer starts then, so start-up
   * time does not count. Default `'ready'`; `null` starts the timer at spawn.
   */
  readonly readyLine?: string | null;
  /** Longest wait for the ready line or the exit, per trial (default 30 s). */
  readonly timeoutMs?: number;
  /** Extra environment for the child (added to `process.env`). `LEVELSKIP_FAULT_TRIAL` holds the trial number. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags for the child (default none). */
  readonly execArgv?: readonly string[];
  readonly cwd?: string;
  /** Runs before each trial's child starts (e.g. to set up the previous state). */
  readonly before?: (index: number) => Promise<void> | void;
  /**
   * Runs after each kill; throws (e.g. a failed `expect`) when the state on disk is neither the
   * old nor the new one, or half-written. Its error is re-thrown with the trial and delay in front.
   */
  readonly check: (trial: KillTrial) => Promise<void> | void;
}

/** Summary of a finished loop. */
export interface KillLoopReport {
  readonly trials: number;
  /** Trials where the child was killed (the rest exited before their kill moment). */
  readonly killed: number;
  readonly delaysMs: readonly number[];
}

/** mulberry32: a tiny seeded generator; the kill moments only need to be reproducible, not good. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runTrial(options: KillLoopOptions, index: number, delayMs: number): Promise<KillTrial> {
  const args = typeof options.args === 'function' ? options.args(index) : (options.args ?? []);
  const readyLine = options.readyLine === undefined ? 'ready' : options.readyLine;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.execArgv ?? []), options.script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, LEVELSKIP_FAULT_TRIAL: String(index) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    const startKillTimer = (): void => {
      if (killTimer !== undefined) return;
      killTimer = setTimeout(() => {
        killed = child.kill('SIGKILL');
      }, delayMs);
    };
    const watchdog = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new LevelskipError(
          'INTERNAL',
          `kill loop trial ${index}: the child ${readyLine !== null && killTimer === undefined ? `never printed "${readyLine}"` : 'did not exit'} within ${timeoutMs} ms; its stderr: ${stderr.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (readyLine !== null && stdout.split('\n').some((line) => line.trim() === readyLine)) startKillTimer();
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(watchdog);
      clearTimeout(killTimer);
      reject(new LevelskipError('INTERNAL', `kill loop trial ${index}: could not start ${options.script}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(watchdog);
      clearTimeout(killTimer);
      resolve({ index, delayMs, killed, exitCode: killed ? null : code, stdout, stderr });
    });
    if (readyLine === null) startKillTimer();
  });
}

/**
 * Runs the kill -9 loop: `trials` times, start `script` in a fresh Node process, SIGKILL it at a
 * seeded random moment, and run `check` on what it left. Trials run one after another (each sees
 * what the previous one left, as a re-run after a crash would).
 *
 * A child that exits on its own before its kill moment is allowed (the trial still runs `check`),
 * but a child that exits with a non-zero code fails the loop: the writer itself broke.
 *
 * @throws the first failing `check`'s error, prefixed with the trial number and kill delay so it
 *   can be replayed with the same `seed`; `LevelskipError` `INTERNAL` when a child fails to start,
 *   never gets ready, or exits non-zero.
 *
 * @example
 * await killLoop({
 *   script: childJs, args: [dir], trials: 20, seed: 7,
 *   check: async () => { const { manifest } = await loadCheckpoint(dir); expect(...) },
 * });
 */
export async function killLoop(options: KillLoopOptions): Promise<KillLoopReport> {
  const trials = options.trials ?? 20;
  const minDelayMs = options.minDelayMs ?? 0;
  const maxDelayMs = options.maxDelayMs ?? 200;
  if (!Number.isInteger(trials) || trials < 1) throw new LevelskipError('INVALID_OPTION', `trials must be a positive integer, got ${trials}`);
  if (!(minDelayMs >= 0 && maxDelayMs >= minDelayMs)) {
    throw new LevelskipError('INVALID_OPTION', `need 0 <= minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`);
  }
  const random = seededRandom(options.seed ?? 1);
  const delaysMs: number[] = [];
  let killed = 0;
  for (let index = 0; index < trials; index++) {
    const delayMs = Math.round(minDelayMs + random() * (maxDelayMs - minDelayMs));
    delaysMs.push(delayMs);
    await options.before?.(index);
    const trial = await runTrial(options, index, delayMs);
    if (trial.killed) killed += 1;
    else if (trial.exitCode !== 0) {
      throw new LevelskipError('INTERNAL', `kill loop trial ${index}: the child exited with code ${trial.exitCode} before its kill; its stderr: ${trial.stderr.slice(-2000)}`);
    }
    try {
      await options.check(trial);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const wrapped = new Error(`kill loop trial ${index} (seed ${options.seed ?? 1}, killed ${delayMs} ms after ready${trial.killed ? '' : ', but it had exited'}): ${message}`, {
        cause: error,
      });
      throw wrapped;
    }
  }
  return { trials, killed, delaysMs };
}
