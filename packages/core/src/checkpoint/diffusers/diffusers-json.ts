/**
 * The JSON files of a 🤗 diffusers directory (`config.json`, `scheduler_config.json`,
 * `model_index.json`), read with core's strict parser: duplicate keys and deep nesting are refused
 * and a syntax fault is reported by position, never by quoting the file (it may be a symlink to
 * something that is not ours to show).
 */
import { LevelskipError, formatPath, type LevelskipIssue } from '../../errors/levelskip-error.js';
import { parseStrictJson, StrictJsonError } from '../strict-json.js';

/**
 * Deepest nesting accepted in a diffusers JSON file. A config nests 2 levels (an object of lists,
 * `model_index.json` an object of pairs); the rest is room for fields we do not read.
 */
export const maxDiffusersJsonDepth = 16;

/** The largest diffusers JSON file read (1 MiB; a real one has about 1 KiB, `trained_betas` about 20 KiB). */
export const maxDiffusersJsonBytes = 1024 * 1024;

/**
 * A diffusers JSON file's text → its top-level object.
 *
 * @param path Names the file in errors (a path or URL).
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when the text is not strict JSON or not an object.
 */
export function parseDiffusersJson(text: string, path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseStrictJson(text, { maxDepth: maxDiffusersJsonDepth });
  } catch (error) {
    const reason = error instanceof StrictJsonError ? error.message : 'it could not be parsed';
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not valid JSON (${reason}); restore it from the model's repository`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} must hold a JSON object (a diffusers config)`);
  }
  return raw as Record<string, unknown>;
}

/**
 * One error listing every issue of a diffusers file, each as `field: message`:
 * `config.json: 2 fields levelskip cannot run:\n  down_block_types[1]: "AttnSkipDownBlock2D" is not supported; …`.
 */
export function diffusersIssuesError(code: 'CHECKPOINT_CORRUPT' | 'UNSUPPORTED', path: string, what: string, issues: readonly LevelskipIssue[], cause?: unknown): LevelskipError {
  const lines = issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  const count = `${issues.length} field${issues.length === 1 ? '' : 's'}`;
  return new LevelskipError(code, `${path}: ${count} ${what}:\n${lines.join('\n')}`, { issues, ...(cause === undefined ? {} : { cause }) });
}
