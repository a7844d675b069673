/**
 * Exit codes and the one-line error report. 0: success; 1: a runtime failure (I/O, a backend
 * that cannot start, a damaged checkpoint, training that diverged); 2: a usage error (a bad or
 * missing option, an impossible combination, a model or directory that does not exist), found
 * before any engine starts; 130: interrupted by Ctrl-C or SIGTERM (`ABORTED`, after saving what
 * could be saved).
 */
import { LevelskipError, type LevelskipErrorCode } from '@levelskip/core';

export const exitCodes = { ok: 0, runtime: 1, usage: 2, interrupted: 130 } as const;

/** LevelskipError codes that mean the command line asked for something impossible. */
const usageCodes: readonly LevelskipErrorCode[] = ['INVALID_OPTION', 'INVALID_FILL', 'INVALID_SCHEDULE', 'INVALID_SPEC', 'INVALID_SHAPE', 'CHECKPOINT_MISSING'];

/** Marks an error as a usage error whatever its code (e.g. commander's parse errors). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** 2 for usage errors, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return exitCodes.usage;
  if (LevelskipError.is(error)) {
    if (error.code === 'ABORTED') return exitCodes.interrupted;
    return usageCodes.includes(error.code) ? exitCodes.usage : exitCodes.runtime;
  }
  return exitCodes.runtime;
}

/** The error as one line: multi-line messages (spec validation lists) are joined with `; `. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const parts = message
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.map((part, i) => (i < parts.length - 1 && !/[:;,]$/.test(part) ? `${part};` : part)).join(' ');
}
