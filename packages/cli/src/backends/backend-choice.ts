/**
 * `--backend onnx|tfjs` and `--engine`: checked here without loading either runtime (so a typo
 * fails in milliseconds), then `createBackend` imports the chosen backend package on demand.
 *
 * The lists below mirror `@levelskip/backend-tfjs`'s `engineOrder` and `@levelskip/backend-onnx`'s
 * `executionProviders`; a test keeps them equal.
 */
import { LevelskipError, type Backend } from '@levelskip/core';
import { optionError, parseChoice, parseList } from '../options/option-values.js';

export const backendNames = ['onnx', 'tfjs'] as const;
export type BackendName = (typeof backendNames)[number];

/** tfjs engines, in `auto`'s order of preference. */
export const tfjsEngines = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type TfjsEngineName = (typeof tfjsEngines)[number] | 'auto';

/** onnxruntime execution providers the ONNX backend knows. */
export const onnxProviders = ['cpu', 'cuda', 'webgpu', 'tensorrt', 'dml', 'coreml'] as const;

export type BackendChoice =
  | { readonly backend: 'tfjs'; readonly engine: TfjsEngineName }
  | { readonly backend: 'onnx'; readonly executionProviders: readonly string[] };

/**
 * Parses `--backend` and `--engine`: for tfjs one of auto, node-gpu, node, wasm, cpu (default
 * auto); for onnx a comma-separated list of execution providers tried in order (default cpu).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag.
 */
export function parseBackendChoice(backendText: string, engineText: string | undefined): BackendChoice {
  const backend = parseChoice('--backend', backendText, backendNames);
  if (backend === 'tfjs') {
    const engine = engineText === undefined ? 'auto' : engineText;
    const choices: readonly string[] = ['auto', ...tfjsEngines];
    if (!choices.includes(engine)) {
      throw optionError('--engine', `for --backend tfjs must be one of ${choices.join(', ')}, got ${JSON.stringify(engine)}`);
    }
    return { backend, engine: engine as TfjsEngineName };
  }
  const providers = engineText === undefined ? ['cpu'] : parseList('--engine', engineText);
  for (const provider of providers) {
    if (!(onnxProviders as readonly string[]).includes(provider)) {
      throw optionError('--engine', `for --backend onnx takes execution providers in order of preference (e.g. cuda,cpu) from ${onnxProviders.join(', ')}; ${JSON.stringify(provider)} is not one`);
    }
  }
  if (new Set(providers).size !== providers.length) throw optionError('--engine', `lists an execution provider twice: ${JSON.stringify(engineText)}`);
  return { backend, executionProviders: providers };
}

/** Short description for summaries: `tfjs (engine auto)`, `onnx (cuda,cpu)`. */
export function describeBackendChoice(choice: BackendChoice): string {
  return choice.backend === 'tfjs' ? `tfjs (engine ${choice.engine})` : `onnx (${choice.executionProviders.join(',')})`;
}

/**
 * Starts the chosen backend, importing its package only now.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when no requested engine or provider starts (listing
 *   each failure, worded for the command line: `onnxBackendUnavailable`).
 */
export async function createBackend(choice: BackendChoice): Promise<Backend<unknown>> {
  if (choice.backend === 'tfjs') {
    const { createTfjsBackend } = await import('@levelskip/backend-tfjs');
    // Tensor types differ per backend; the CLI only passes them between a backend's own functions.
    return (await createTfjsBackend({ engine: choice.engine })) as unknown as Backend<unknown>;
  }
  const { createOnnxBackend } = await import('@levelskip/backend-onnx');
  try {
    return (await createOnnxBackend({ executionProviders: choice.executionProviders })) as unknown as Backend<unknown>;
  } catch (error) {
    throw onnxBackendUnavailable(error, choice.executionProviders) ?? error;
  }
}

function isProviderFailures(value: unknown): value is readonly { readonly provider: string; readonly reason: string }[] {
  return Array.isArray(value) && value.length > 0 && value.every((f) => typeof (f as { provider?: unknown }).provider === 'string' && typeof (f as { reason?: unknown }).reason === 'string');
}

/**
 * backend-onnx's `BACKEND_UNAVAILABLE` for a list of execution providers none of which started,
 * worded for the command line: each provider's reason, then what to pass (`--engine cuda,cpu`),
 * not the API's `executionProviders` option. Other errors: `undefined` (rethrown as they are).
 */
export function onnxBackendUnavailable(error: unknown, providers: readonly string[]): LevelskipError | undefined {
  if (!LevelskipError.is(error) || error.code !== 'BACKEND_UNAVAILABLE' || !isProviderFailures(error.cause)) return undefined;
  const reasons = error.cause.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  const gpu = providers.filter((p) => p !== 'cpu');
  const fallback = providers.includes('cpu') ? '' : ` Add the CPU as a fallback: --engine ${[...providers, 'cpu'].join(',')}, or leave --engine out (cpu).`;
  const cuda = gpu.some((p) => p === 'cuda' || p === 'tensorrt')
    ? " For CUDA, reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (see @levelskip/backend-onnx's README)."
    : '';
  return new LevelskipError('BACKEND_UNAVAILABLE', `--engine ${providers.join(',')}: no onnxruntime execution provider could start (${reasons}).${fallback}${cuda}`, {
    cause: error,
  });
}
