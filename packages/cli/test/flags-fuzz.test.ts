/**
 * A short fuzz of every command's flags (issue 21, fault suite): random numbers, extreme and
 * malformed strings for each flag of sample, eval, demo, export and info, run through the real
 * command line (`main`, in-process). Every run either succeeds or fails with one `levelskip: ...`
 * line and a non-zero code, from a `LevelskipError` (or commander's own usage errors): never a raw
 * RangeError or TypeError, never a stack trace.
 *
 * The expensive parts of a valid request are stubbed, so the fuzz stays within seconds: the
 * backend's model predicts ε̂ = 0.1·x on the host (sampling and the PNG grid still run for real),
 * and the MNIST reference of eval and demo throws a marker error (everything before it, flag
 * parsing, the --out check, loading the model, the memory check, runs for real). `export` runs
 * for real on a tiny spec.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/program/create-program.js';
import { capturedIo } from './helpers/captured-io.js';

const stopMessage = 'fuzz: stopped before the heavy work';

vi.mock('../src/backends/backend-choice.js', async (importOriginal) => {
  const { FeatureCache, parseUNetSpec, specificationVersion } = await import('@levelskip/core');
  const { referenceOps } = await import('@levelskip/core/testing');
  const original = await importOriginal<typeof import('../src/backends/backend-choice.js')>();
  // A backend whose model predicts ε̂ = 0.1·x on the host: sampling and the PNG grid run for real, in milliseconds.
  const backend = {
    specificationVersion,
    name: 'fuzz',
    capabilities: { fusedFills: [], customFills: true, training: false, devices: ['host'] },
    ops: referenceOps,
    createDenoiser: async (specInput: Parameters<typeof parseUNetSpec>[0]) => {
      const spec = parseUNetSpec(specInput);
      return {
        specificationVersion,
        spec,
        levels: spec.channelMults.length,
        backend: 'fuzz',
        ops: referenceOps,
        predict: async (x: Parameters<typeof referenceOps.scale>[0]) => referenceOps.scale(x, 0.1),
        createFeatureCache: () => new FeatureCache(referenceOps),
        dispose: () => undefined,
        [Symbol.dispose]: () => undefined,
      };
    },
    dispose: () => undefined,
    [Symbol.dispose]: () => undefined,
  };
  return { ...original, createBackend: async () => backend as never };
});
vi.mock('@levelskip/metrics', async (importOriginal) => {
  const { LevelskipError } = await import('@levelskip/core');
  const original = await importOriginal<typeof import('@levelskip/metrics')>();
  return {
    ...original,
    loadMnistReference: () => Promise.reject(new LevelskipError('BACKEND_UNAVAILABLE', 'fuzz: stopped before the heavy work')),
  };
});

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-fuzz-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const tinySpecPath = join(directory, 'tiny.json');
writeFileSync(tinySpecPath, JSON.stringify({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }));
const mnistSpecPath = join(directory, 'mnist.json');
writeFileSync(mnistSpecPath, JSON.stringify({ imageSize: 32, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }));
mkdirSync(join(directory, 'out'));

/** Strings that have broken number parsers before, and valid values at the edges. */
const edgeNumbers = [
  '0', '1', '2', '-1', '-0', '0.5', '1e3', '1e15', '1e308', '1e400', '-1e400', '2147483647', '4294967296', '9007199254740991', '9007199254740993',
  'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '1_000', '1,000', '', ' ', '+', '.', 'e5', '1e', '١', '３', '1.5e-7', '4096', '4097', '100000', '100001',
];

const hostileNumber = fc.oneof(fc.constantFrom(...edgeNumbers), fc.integer().map(String), fc.double().map(String), fc.string({ maxLength: 8 }));
/** Mostly a valid value from `valid`, else a hostile one: so that runs get past the first flag and reach the later checks. */
const numberIn = (valid: fc.Arbitrary<number>) => fc.oneof({ weight: 4, arbitrary: valid.map(String) }, { weight: 1, arbitrary: hostileNumber });
const numberText = numberIn(fc.integer({ min: 0, max: 1_000_000 }));
const small = (min: number, max: number) => numberIn(fc.integer({ min, max }));
const unit = numberIn(fc.double({ min: 0, max: 1, noNaN: true }));
const anyText = fc.oneof(fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('', '-', '--', '--help', ',', ',,', '=', '0:1=3', '0:0.5=0,0.5:1=9'));
const choiceOr = (choices: readonly string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...choices) }, { weight: 1, arbitrary: anyText });
/** Output paths inside the test directory only (random names, but never escaping it). */
const outName = (extension: string) =>
  fc.oneof(
    fc.constant(join(directory, 'out', `x${extension}`)),
    fc.string({ maxLength: 12 }).map((name) => join(directory, 'out', `${name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')}${extension}`)),
    fc.constantFrom(join(directory, 'out'), tinySpecPath, join(tinySpecPath, 'x.png'), join(directory, `${'n'.repeat(300)}.png`)),
  );

type FlagTable = Record<string, fc.Arbitrary<string> | 'boolean'>;

const source = fc.oneof(
  { weight: 6, arbitrary: fc.constant(['--spec', tinySpecPath, '--random-weights']) },
  { weight: 2, arbitrary: fc.constant(['--spec', mnistSpecPath, '--random-weights']) },
  { weight: 1, arbitrary: fc.constant(['--preset', 'mnistSmall', '--random-weights']) },
  { weight: 1, arbitrary: fc.constant(['--model', 'mnist-zero-c2']) },
  { weight: 1, arbitrary: anyText.map((name) => ['--model', name]) },
  { weight: 1, arbitrary: fc.constant(['--checkpoint', join(directory, 'missing')]) },
  { weight: 1, arbitrary: anyText.map((name) => ['--preset', name]) },
  { weight: 1, arbitrary: fc.constant([] as string[]) },
);

const samplingFlags: FlagTable = {
  '--weights-seed': numberText,
  '--backend': choiceOr(['onnx', 'tfjs']),
  '--engine': choiceOr(['cpu', 'wasm', 'auto', 'cuda,cpu', 'node-gpu']),
  '--sampler': choiceOr(['ddim', 'ddpm', 'langevin', 'dpm-solver']),
  '--steps': small(1, 3),
  '--eta': unit,
  '--noise-levels': small(1, 3),
  '--clip-sample': 'boolean',
  '--c': small(0, 5),
  '--k-table': choiceOr(['0:1=0', '0:0.5=0,0.5:1=1', '0:1=1e9', '0:1=-1']),
  '--fill': choiceOr(['zero', 'duplicate', 'interpolate', 'cache', 'cache:3', 'cache:0', 'cache:1e99']),
  '--batch': small(1, 3),
  '--seed': numberText,
  '--max-memory': fc.oneof(hostileNumber, fc.constantFrom('1GiB', '16MiB', '1TiB', '2TiB', '8G', '1.5GB', '0GiB', '-1GiB')),
  '--json': 'boolean',
};

const commands: Record<string, { readonly flags: FlagTable; readonly fixed: readonly string[]; readonly withSource: boolean }> = {
  sample: {
    flags: { ...samplingFlags, '--out': outName('.png'), '--columns': small(1, 4), '--scale': small(1, 3), '--row-labels': choiceOr(['a', 'a,b', 'c=0,c=2,x']) },
    fixed: ['--no-progress'],
    withSource: true,
  },
  eval: { flags: { ...samplingFlags, '--samples': small(2, 4) }, fixed: ['--no-progress'], withSource: true },
  demo: {
    flags: {
      '--model': choiceOr(['mnist-zero-c2', 'mnist-full']),
      '--baseline': choiceOr(['mnist-full', 'mnist-zero-c2']),
      '--c': small(1, 5),
      '--cache-interval': small(0, 3),
      '--samples': small(2, 4),
      '--batch': small(1, 3),
      '--steps': small(1, 3),
      '--eta': unit,
      '--backend': choiceOr(['onnx', 'tfjs']),
      '--seed': numberText,
      '--out': outName('.png'),
      '--columns': small(1, 2),
      '--no-clip-sample': 'boolean',
      '--max-memory': fc.oneof(hostileNumber, fc.constantFrom('1GiB', '8G')),
      '--json': 'boolean',
    },
    fixed: ['--no-progress'],
    withSource: false,
  },
  export: {
    flags: {
      '--weights-seed': numberText,
      '--out': outName(''),
      '--k': choiceOr(['0', '0,1', '1,0', '0,0', '5', '-1', '1e400']),
      '--fill': choiceOr(['zero', 'duplicate', 'interpolate', 'zero,zero', 'cache']),
      '--stage': choiceOr(['0', '1', '0,1']),
      '--json': 'boolean',
    },
    fixed: [],
    withSource: true,
  },
  info: { flags: { '--json': 'boolean' }, fixed: [], withSource: true },
};

function argvFor(command: string): fc.Arbitrary<string[]> {
  const { flags, fixed, withSource } = commands[command]!;
  const entries = Object.entries(flags).map(([flag, value]) => (value === 'boolean' ? fc.constant([flag]) : value.map((text) => [flag, text])));
  return fc.tuple(withSource ? source : fc.constant([] as string[]), fc.subarray(entries.map((_, i) => i)).chain((picked) => fc.tuple(...picked.map((i) => entries[i]!)))).map(
    ([model, pairs]) => [command, ...model, ...pairs.flat(), ...fixed],
  );
}

interface Outcome {
  readonly code: number;
  readonly err: string;
  readonly out: string;
}

async function run(argv: readonly string[]): Promise<Outcome> {
  // LEVELSKIP_DEBUG=1 prints the stack of any Error after the message: its first line names the error class.
  const io = capturedIo({ LEVELSKIP_DEBUG: '1' });
  const code = await main(argv, io);
  return { code, err: io.err(), out: io.out() };
}

function expectClean(argv: readonly string[], { code, err }: Outcome): 'ok' | 'stopped' | 'refused' {
  const shown = JSON.stringify(argv);
  if (code === 0) return 'ok';
  const [line = '', ...rest] = err.split('\n');
  expect(line, shown).toMatch(/^levelskip: \S/);
  const stack = rest.filter((l) => l.trim() !== '');
  if (stack.length > 0) {
    // The stack of the error that ended the run: a LevelskipError, or a UsageError of the CLI itself.
    expect(stack[0], `${shown}\n${err}`).toMatch(/^(LevelskipError|UsageError)\b/);
    expect(stack[0], shown).not.toMatch(/RangeError|TypeError|SyntaxError|ReferenceError/);
  }
  return line.includes(stopMessage) ? 'stopped' : 'refused';
}

describe('fuzzing every flag of every command', () => {
  const runs: Record<string, number> = { sample: 200, eval: 80, demo: 60, export: 40, info: 30 };
  for (const [command, numRuns] of Object.entries(runs)) {
    it(`${command}: ${numRuns} random flag sets give success or one clean error line`, async () => {
      const tally = { ok: 0, stopped: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(argvFor(command), async (argv) => {
          tally[expectClean(argv, await run(argv))] += 1;
        }),
        { numRuns, seed: 21, endOnFailure: true },
      );
      // Both kinds of outcome were reached: the fuzz is not stuck at one early check.
      expect(tally.refused).toBeGreaterThan(0);
      expect(tally.ok + tally.stopped, JSON.stringify(tally)).toBeGreaterThan(0);
    });
  }
});
