/**
 * The streams and environment a command runs with. `main` uses the process's; tests pass their
 * own to capture output. Results go to stdout, progress and errors to stderr.
 */
import type { ProgressStream } from '../progress/progress-reporter.js';

export interface CliOutput {
  write(chunk: string): unknown;
}

export interface CliIo {
  /** Results: tables, summaries, JSON. */
  readonly stdout: CliOutput;
  /** Progress and errors. */
  readonly stderr: ProgressStream;
  /** Environment variables (`LEVELSKIP_DEBUG=1` prints stack traces). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's stdout, stderr and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Writes `value` as pretty JSON and a newline. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
