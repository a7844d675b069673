/**
 * Runs `levelskip` in-process (`main` from the sources) with captured output, and the checks the
 * fault tests share: a failure is one `levelskip: ...` line on stderr, nothing on stdout, a
 * non-zero code, and no stack trace.
 */
import { expect } from 'vitest';
import { main } from '../../src/program/create-program.js';
import { capturedIo } from './captured-io.js';

export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runInProcess(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<InProcessRun> {
  const io = capturedIo(env);
  const code = await main(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** A clean failure: exit code `code` (any non-zero when omitted), one error line matching `message`. */
export function expectCleanFailure(run: InProcessRun, message: RegExp, code?: number): void {
  if (code === undefined) expect(run.code, run.stderr).not.toBe(0);
  else expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^levelskip: /);
  expect(lines[0]).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}
