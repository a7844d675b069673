/** A CliIo that records what a command writes, for in-process runs of `main`. */
import type { CliIo } from '../../src/program/cli-io.js';

export interface CapturedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

export function capturedIo(env: Record<string, string | undefined> = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: false },
    env,
    out: () => out,
    err: () => err,
  };
}
