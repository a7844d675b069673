/**
 * Training checkpoints under kill -9 and two processes on one checkpoint directory (issue 21,
 * items 4, 5 and the fault suite): real child processes (train-child.ts, bundled from the sources
 * with esbuild as source-worker.ts does) train core's tiny fixture with a checkpoint every step.
 *
 * - 20 seeded kill trials: each child resumes the directory and is killed with SIGKILL at a random
 *   moment of its training; after each kill every `step-…` directory loads completely, the next
 *   child resumes from the newest one and finds no temporary of a dead process; at the end a run
 *   in this process resumes to completion, leaves nothing hidden behind, and its losses and weights
 *   equal those of an uninterrupted run bit for bit.
 * - Two processes: while one child holds the directory, a second child and a train() here fail at
 *   once naming it; the first then finishes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelskipError, SeededRng, isTemporaryFileName, parseUNetSpec } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { train } from '../../src/train/train.js';
import type { TrainOptions } from '../../src/train/train-options.js';
import { listTrainingCheckpoints, readTrainingCheckpoint } from '../../src/checkpoints/training-checkpoints.js';
import { randomImages } from '../helpers/random-images.js';

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<unknown>;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const coreSource = (path: string): string => fileURLToPath(new URL(`../../../core/src/${path}`, import.meta.url));
const packageSource = (path: string): string => fileURLToPath(new URL(`../../../${path}/src/index.ts`, import.meta.url));
const trials = 20;
/** The kill comes this long (at most) after the child's first step, i.e. while it trains and writes checkpoints. */
const maxKillDelayMs = 500;

let childScript: string;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-train-kill-'));
  const require = createRequire(import.meta.url);
  const esbuild = (await import(pathToFileURL(createRequire(require.resolve('tsup')).resolve('esbuild')).href)) as EsbuildApi & { default?: EsbuildApi };
  const dir = `${packageRoot}node_modules/.cache/levelskip-tests`;
  await mkdir(dir, { recursive: true });
  // In this package's node_modules, so that the tfjs packages (left external) resolve from it.
  childScript = `${dir}/train-child-${process.pid}-${Date.now()}.mjs`;
  await (esbuild.default ?? esbuild).build({
    entryPoints: [fileURLToPath(new URL('./train-child.ts', import.meta.url))],
    outfile: childScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@tensorflow/*'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'levelskip-sources',
        setup(build: { onResolve(options: { filter: RegExp }, resolve: (args: { path: string }) => { path: string }): void }) {
          build.onResolve({ filter: /^@levelskip\/core(\/testing)?$/ }, (args) => ({
            path: args.path.endsWith('/testing') ? coreSource('testing/index.ts') : coreSource('index-node.ts'),
          }));
          // backend-tfjs, and datasets (which its deprecated loadMnist re-export reaches).
          build.onResolve({ filter: /^@levelskip\/(backend-tfjs|datasets)$/ }, (args) => ({ path: packageSource(args.path.slice('@levelskip/'.length)) }));
        },
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  if (childScript !== undefined) await rm(childScript, { force: true });
});

/** A running child: its lines so far, a way to wait for one, and its exit. */
interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(dir: string, steps: number, mode?: 'hold'): Child {
  const child = spawn(process.execPath, [childScript, dir, String(steps), ...(mode === undefined ? [] : [mode])], {
    cwd: packageRoot,
  });
  const lines: string[] = [];
  let pending = '';
  const waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(line);
        if (match !== null) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    lines,
    exited,
    waitFor(pattern) {
      for (const line of lines) {
        const match = pattern.exec(line);
        if (match !== null) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before ${pattern}: ${lines.join(' | ')} ${stderr}`)));
      });
    },
  };
}

/** Hidden entries that are temporaries (core's naming or the older `.step-…tmp-…`). */
async function temporaries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => isTemporaryFileName(name) || /^\.step-\d+\.tmp-/.test(name));
}

/** The pid a core temporary name carries. */
function pidOf(name: string): number {
  return Number.parseInt(/^\.levelskip-[0-9a-f]{4}-([0-9a-z]+)-/.exec(name)?.[1] ?? '-1', 36);
}

// The child's data and settings (train-child.ts), for the runs in this process.
const spec = parseUNetSpec(tinySpecs.resnet);
const childOptions = (): TrainOptions => ({
  spec,
  data: randomImages(spec, 4),
  batchSize: 2,
  lr: 2e-3,
  ema: 0.9,
  seed: 7,
  engine: 'wasm',
});

describe('kill -9 during training (issue 21: fault suite)', () => {
  it(`loses no checkpoint and leaves no temporary over ${trials} seeded SIGKILLs`, async () => {
    const dir = join(root, 'killed');
    const rng = new SeededRng(21);
    let newest = 0;
    const landed: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const child = startChild(dir, 1_000_000);
      // It resumes from the newest checkpoint the last kill left (step 0: none yet).
      const start = await child.waitFor(/^START (\d+)$/);
      expect(Number(start[1]), `trial ${trial}`).toBe(newest);
      // By its first step it has removed what the killed children were writing.
      for (const name of await temporaries(dir)) expect(pidOf(name), `trial ${trial}: ${name}`).toBe(child.process.pid);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(rng.uniform(1)[0]! * maxKillDelayMs)));
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      // Every checkpoint directory is complete: the previous state or the new one, nothing half-written.
      const checkpoints = await listTrainingCheckpoints(dir);
      for (const { dir: checkpoint, step } of checkpoints) expect((await readTrainingCheckpoint(checkpoint)).state.step).toBe(step);
      // Nothing is lost: the newest complete checkpoint never goes back (on a slow machine a kill
      // may land before the first one is complete, and then there is none yet).
      const current = checkpoints[0]?.step ?? 0;
      expect(current, `trial ${trial}`).toBeGreaterThanOrEqual(newest);
      expect((await readdir(dir)).filter((name) => name.includes('.damaged'))).toEqual([]);
      newest = current;
      landed.push((await temporaries(dir)).length);
    }
    // The next run cleans up and continues exactly: the same losses and weights as one uninterrupted run.
    const steps = newest + 1;
    const resumed = await train({ ...childOptions(), steps, checkpointDir: dir, checkpointEvery: 1, keepLast: 3, resume: true });
    expect(resumed.stats.startStep).toBe(newest);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
    const whole = await train({ ...childOptions(), steps });
    expect(resumed.losses).toEqual(whole.losses);
    for (const [name, tensor] of whole.weights) expect(resumed.weights.get(name)!.data, name).toEqual(tensor.data);
    // How many kills landed while a checkpoint was being written (a temporary was left behind):
    // timing-dependent, so reported rather than asserted.
    console.info(`kill -9 trials: ${trials}, killed mid-write: ${landed.filter((count) => count > 0).length}, final step ${newest}`);
  }, 300_000);
});

describe('two processes on one checkpoint directory (issue 21 item 4)', () => {
  it('fails the second at once, naming the first, which then finishes', async () => {
    const dir = join(root, 'shared');
    const first = startChild(dir, 3, 'hold');
    await first.waitFor(/^STEP 1$/);
    const second = startChild(dir, 3);
    const refused = await second.waitFor(/^ERROR (\S+) (.*)$/);
    expect((await second.exited).code).toBe(1);
    expect(refused[1]).toBe('IO_ERROR');
    expect(refused[2]).toContain(`locked by process ${first.process.pid}`);
    expect(second.lines.some((line) => line.startsWith('STEP'))).toBe(false);
    // And a run in this process too.
    const here = await train({ ...childOptions(), steps: 3, checkpointDir: dir, resume: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(LevelskipError.is(here) && here.message).toContain(`locked by process ${first.process.pid}`);
    first.process.stdin.write('go\n');
    await first.waitFor(/^DONE 3$/);
    expect((await first.exited).code).toBe(0);
    expect((await listTrainingCheckpoints(dir)).map((c) => c.step)).toEqual([3, 2, 1]);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  }, 120_000);
});
