/**
 * One stderr line per phase of a long command (loading models, the MNIST reference, preparing
 * graphs, sampling), each with the time since the command started, so that the first minute of
 * `levelskip demo` is not silent: `[demo +41.2s] preparing 7 graph variants (batch 50)`.
 */
import { formatDuration, type ProgressStream } from './progress-reporter.js';

export interface PhaseLog {
  /** Prints `text` as the phase now starting. */
  phase(text: string): void;
}

export interface PhaseLogOptions {
  /** The command, e.g. `demo`. */
  readonly label: string;
  readonly stream: ProgressStream;
  /** false: prints nothing (`--no-progress`). */
  readonly enabled: boolean;
  /** Clock in ms (tests); default `performance.now`. */
  readonly now?: () => number;
}

export function createPhaseLog(options: PhaseLogOptions): PhaseLog {
  const now = options.now ?? (() => performance.now());
  const started = now();
  if (!options.enabled) return { phase: () => undefined };
  return {
    phase(text) {
      options.stream.write(`[${options.label} +${formatDuration(now() - started)}] ${text}\n`);
    },
  };
}
