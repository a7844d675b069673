// @ts-check
/**
 * The speed results file: read it (to resume), add cells as they finish, write it atomically
 * (temp file + rename, so an interrupted run never leaves half a JSON). The schema is documented
 * at the top of bench/report.mjs.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const speedSchema = 'levelskip-bench-speed/1';

/** Cell keys: one measured unit of work, skipped on resume when present. */
export const cellKey = {
  /** @param {string} backend */
  peak: (backend) => `peak|${backend}`,
  /** @param {string} model */
  parity: (model) => `parity|${model}`,
  /** @param {string} model @param {string} backend @param {number} batch @param {string} fill */
  predict: (model, backend, batch, fill) => `predict|${model}|${backend}|b${batch}|${fill}`,
  /** @param {string} model @param {string} backend @param {number} batch @param {string} fill @param {string} sampler */
  sample: (model, backend, batch, fill, sampler) => `sample|${model}|${backend}|b${batch}|${fill}|${sampler}`,
};

/**
 * Reads a results file of `schema` (default: the speed suite's), or returns a fresh document when it does not exist.
 *
 * @template {{ schema: string }} Document
 * @param {string} path
 * @param {() => Document} fresh the document to start from
 * @param {string} [schema]
 * @returns {Document} the file's contents, trusted to be a `Document` once its schema matches
 */
export function readResults(path, fresh, schema = speedSchema) {
  if (!existsSync(path)) return fresh();
  /** @type {Document} */
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  if (doc.schema !== schema) {
    throw new Error(`${path} is not a results file of schema ${schema} (found ${JSON.stringify(doc.schema)}); pass another --out`);
  }
  return doc;
}

/**
 * Refuses to mix incomparable measurements in one file: another machine, or another value of
 * any of `keys` of the config (by default the thread count and quick (smoke) vs real figures).
 *
 * @param {{ machine: import('./types.js').Machine, config: object }} doc the file's document
 * @param {string} path the file, for the message
 * @param {{ machine: import('./types.js').Machine, config: object }} current this run's machine and configuration
 * @param {readonly string[]} [keys] configuration fields that must agree
 */
export function checkCompatible(doc, path, current, keys = ['threads', 'quick']) {
  const { machine } = current;
  // The fields compared are named by `keys`: read both configurations by name.
  const config = /** @type {Record<string, unknown>} */ (current.config);
  const stored = /** @type {Record<string, unknown>} */ (doc.config);
  const problems = [];
  if (doc.machine.cpuModel !== machine.cpuModel || doc.machine.cores !== machine.cores) {
    problems.push(`it was measured on "${doc.machine.cpuModel}" with ${doc.machine.cores} cores, this is "${machine.cpuModel}" with ${machine.cores}`);
  }
  for (const key of keys) {
    if (stored[key] === config[key]) continue;
    if (key === 'quick') problems.push(`it holds ${stored.quick ? 'quick (smoke)' : 'full'} measurements, this run is ${config.quick ? 'quick' : 'full'}`);
    else problems.push(`it was measured with ${key} = ${JSON.stringify(stored[key])}, this run has ${JSON.stringify(config[key])}`);
  }
  if (problems.length > 0) {
    throw new Error(`cannot add to ${path}: ${problems.join('; ')}. Write to another file with --out, or delete it to start over`);
  }
}

/**
 * Indented JSON with lists of numbers kept on one line (timings, k lists), so the file stays readable.
 *
 * @param {unknown} value
 * @returns {string}
 */
export function formatJson(value) {
  return JSON.stringify(value, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, /** @type {string} */ items) => `[${items.split(/,\s*/).join(', ')}]`);
}

/**
 * Writes the document atomically.
 *
 * @param {string} path
 * @param {unknown} doc
 */
export function writeResults(path, doc) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, `${formatJson(doc)}\n`);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
