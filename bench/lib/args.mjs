// @ts-check
/**
 * Command-line flags of `pnpm bench speed`. Lists are comma-separated.
 */
import { join } from 'node:path';
import { builtinFillKinds } from '@levelskip/core';
import { dependencyVersion, repositoryRoot } from './workspace.mjs';

/**
 * core presets the speed suite times. mnistMultistage (shared encoder, one decoder per timestep
 * stage) and mnistOde2 (second-order neural-ODE blocks) are small 32×32 models, as mnistSmall.
 *
 * @type {import('./types.js').SpeedModel[]}
 */
export const models = ['mnistSmall', 'ddpmCifar10', 'mnistMultistage', 'mnistOde2'];
/** Models with real sample() runs by default: all but ddpmCifar10, whose DDIM-50 runs take minutes each. */
export const defaultSampleModels = models.filter((m) => m !== 'ddpmCifar10');
/**
 * Backends the speed suite knows. `tfjs` is short for `tfjs-wasm`.
 *
 * @type {import('./types.js').SpeedBackend[]}
 */
export const backendIds = ['onnx', 'tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'torch'];
/** Every built-in fill of core's fill registry. */
export const fills = [...builtinFillKinds];
/**
 * Parts of the speed suite (`--parts`).
 *
 * @type {import('./types.js').SpeedPart[]}
 */
export const parts = ['peak', 'parity', 'predict', 'sample'];

/** `pnpm bench speed --help`. */
export const speedUsage = `usage: pnpm bench speed [flags]

Times levelskip's backends (and a PyTorch CPU peer) on core's presets with random weights:
predict() per depth k (per decoder stage and k for the multi-decoder mnistMultistage), real DDIM-50
sample() runs at c = 0 and each c, peak conv/matmul throughput per runtime, and PyTorch parity.
The PyTorch peer runs every preset (per stage for mnistMultistage). Results are merged into a JSON file (cells already there are
skipped: an interrupted run resumes); \`pnpm bench report\` then writes docs/results.md.

  --only <models>         models to run: ${models.join(',')}
                          (default: all four)
  --backends <list>       ${backendIds.join(',')} (default: onnx,tfjs-wasm,torch, plus tfjs-node
                          when @tensorflow/tfjs-node is installed; tfjs = tfjs-wasm; tfjs-cpu is plain
                          JavaScript and slow, so only on request)
  --batches <list>        batch sizes (default: 1,16)
  --fills <list>          ${fills.join(',')} (default: all; interpolate runs on {...preset, sidePaths: true})
  --cs <list>             power-schedule curvatures besides the c = 0 baseline (default: 1,2,3,5)
  --parts <list>          ${parts.join(',')} (default: all)
  --sample-models <list>  models that also get real sample() runs (default: ${defaultSampleModels.join(',')};
                          "all" adds ddpmCifar10, whose DDIM-50 runs take minutes each)
  --threads <n>           intra-op threads of onnxruntime and PyTorch (default: 2; tfjs-wasm is single-threaded)
  --min-ms <ms>           predict() timing budget per depth k (per stage and k when multi-stage; default: 1500)
  --rounds <n>            timed rounds of sample() runs per schedule (default: 3)
  --out <file>            results file (default: bench/results/speed-<machine>.json;
                          with --quick: bench/results/quick/speed-<machine>.json)
  --python <path>         Python with torch for the peer (default: /usr/bin/python3)
  --force                 re-measure cells already in the results file
  --quick                 smoke check: minimal repeats (figures are not results)
  --help                  this text`;

/**
 * Every engine that can run here, except tfjs-cpu (plain JavaScript: minutes per ddpmCifar10 step).
 *
 * @returns {import('./types.js').SpeedBackend[]}
 */
function defaultBackends() {
  const tfjsNode = dependencyVersion('backend-tfjs', '@tensorflow/tfjs-node') !== null;
  return ['onnx', 'tfjs-wasm', ...(tfjsNode ? /** @type {const} */ (['tfjs-node']) : []), 'torch'];
}

/**
 * A comma-separated flag value as a list.
 *
 * @param {string | undefined} value
 * @param {string} flag
 * @returns {string[]}
 */
function list(value, flag) {
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value; see --help`);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The values, each checked to be one of `allowed`.
 *
 * @template {string} T
 * @param {string[]} values
 * @param {readonly T[]} allowed
 * @param {string} flag
 * @returns {T[]}
 */
function oneOf(values, allowed, flag) {
  for (const v of values) {
    if (!allowed.includes(/** @type {T} */ (v))) throw new Error(`${flag}: unknown value "${v}"; use ${allowed.join(', ')}`);
  }
  return /** @type {T[]} */ (values);
}

/**
 * The values as positive (or, with allowZero, non-negative) integers.
 *
 * @param {string[]} values
 * @param {string} flag
 * @param {{ allowZero?: boolean }} [options]
 * @returns {number[]}
 */
function positiveIntegers(values, flag, { allowZero = false } = {}) {
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`${flag}: "${v}" is not a ${allowZero ? 'non-negative' : 'positive'} integer`);
    return n;
  });
}

/**
 * Parses the speed suite's flags; throws with the fix for anything malformed.
 *
 * @param {readonly string[]} argv
 * @param {string} machineSlug names the default results file
 * @returns {import('./types.js').SpeedOptions}
 */
export function parseSpeedArgs(argv, machineSlug) {
  /** @type {Omit<import('./types.js').SpeedOptions, 'out' | 'timing'> & { out: string | undefined }} */
  const options = {
    models: [...models],
    backends: defaultBackends(),
    batches: [1, 16],
    fills: [...fills],
    cs: [1, 2, 3, 5],
    parts: [...parts],
    sampleModels: [...defaultSampleModels],
    threads: 2,
    minMs: 1500,
    rounds: 3,
    out: undefined,
    python: '/usr/bin/python3',
    force: false,
    quick: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--only':
        options.models = oneOf(list(value(), flag), models, flag);
        break;
      case '--backends':
        options.backends = oneOf(
          list(value(), flag).map((b) => (b === 'tfjs' ? 'tfjs-wasm' : b)),
          backendIds,
          flag,
        );
        break;
      case '--batches':
        options.batches = positiveIntegers(list(value(), flag), flag);
        break;
      case '--fills':
        options.fills = oneOf(list(value(), flag), fills, flag);
        break;
      case '--cs': {
        const cs = list(value(), flag).map(Number);
        if (cs.some((c) => !(Number.isFinite(c) && c > 0))) throw new Error(`${flag}: curvatures must be positive numbers (c = 0 is always the baseline)`);
        options.cs = cs;
        break;
      }
      case '--parts':
        options.parts = oneOf(list(value(), flag), parts, flag);
        break;
      case '--sample-models': {
        const names = list(value(), flag);
        options.sampleModels = names.length === 1 && names[0] === 'all' ? [...models] : oneOf(names, models, flag);
        break;
      }
      case '--threads':
        [options.threads] = positiveIntegers(list(value(), flag), flag);
        break;
      case '--min-ms':
        [options.minMs] = positiveIntegers(list(value(), flag), flag, { allowZero: true });
        break;
      case '--rounds':
        [options.rounds] = positiveIntegers(list(value(), flag), flag);
        break;
      case '--out':
        options.out = value();
        if (options.out === undefined) throw new Error('--out needs a file name');
        break;
      case '--python':
        options.python = value();
        if (options.python === undefined) throw new Error('--python needs a path');
        break;
      case '--force':
        options.force = true;
        break;
      case '--quick':
        options.quick = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new Error(`unknown flag ${flag}; see --help`);
    }
  }
  const out = options.out ?? join(repositoryRoot, 'bench', 'results', ...(options.quick ? ['quick'] : []), `speed-${machineSlug}.json`);
  // Quick: one warm-up, a couple of timed rounds, no time budget. The figures only show the harness works.
  const timing = options.quick
    ? { warmupRounds: 1, minRounds: 2, minMs: 0, sampleRounds: 1 }
    : { warmupRounds: 1, minRounds: 5, minMs: options.minMs, sampleRounds: options.rounds };
  return { ...options, out, timing };
}
