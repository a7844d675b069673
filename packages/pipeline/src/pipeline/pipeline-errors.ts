/** Errors of the pipeline's options: a `LevelskipError` naming the option, with it as the issue path. */
import { LevelskipError, type LevelskipErrorCode } from '@levelskip/core';

export function optionError(where: 'createPipeline' | 'generate', field: string, message: string, code: LevelskipErrorCode = 'INVALID_OPTION', cause?: unknown): LevelskipError {
  return new LevelskipError(code, `${where}: ${field} ${message}`, { issues: [{ path: field.split('.'), message }], ...(cause === undefined ? {} : { cause }) });
}

/** `value` as shown in a message: strings quoted, everything else as String() gives it. */
export function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}
