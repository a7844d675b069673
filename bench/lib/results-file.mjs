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
  peak: (backend) => `peak|${backend}`,
  parity: (model) => `parity|${model}`,
  predict: (model, backend, batch, fill) => `predict|${model}|${backend}|b${batch}|${fill}`,
  sample: (model, backend, batch, fill, sampler) => `sample|${model}|${backend}|b${batch}|${fill}|${sampler}`,
};

/** Reads a results file of `schema` (default: the speed suite's), or returns a fresh document when it does not exist. */
export function readResults(path, fresh, schema = speedSchema) {
  if (!existsSync(path)) return fresh();
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  if (doc.schema !== schema) {
    throw new Error(`${path} is not a results file of schema ${schema} (found ${JSON.stringify(doc.schema)}); pass another --out`);
  }
  return doc;
}

/**
 * Refuses to mix incomparable measurements in one file: another machine, or another value of
 * any of `keys` of the config (by default the thread count and quick (smoke) vs real figures).
 */
export function checkCompatible(doc, path, { machine, config }, keys = ['threads', 'quick']) {
  const problems = [];
  if (doc.machine.cpuModel !== machine.cpuModel || doc.machine.cores !== machine.cores) {
    problems.push(`it was measured on "${doc.machine.cpuModel}" with ${doc.machine.cores} cores, this is "${machine.cpuModel}" with ${machine.cores}`);
  }
  for (const key of keys) {
    if (doc.config[key] === config[key]) continue;
    if (key === 'quick') problems.push(`it holds ${doc.config.quick ? 'quick (smoke)' : 'full'} measurements, this run is ${config.quick ? 'quick' : 'full'}`);
    else problems.push(`it was measured with ${key} = ${JSON.stringify(doc.config[key])}, this run has ${JSON.stringify(config[key])}`);
  }
  if (problems.length > 0) {
    throw new Error(`cannot add to ${path}: ${problems.join('; ')}. Write to another file with --out, or delete it to start over`);
  }
}

/** Indented JSON with lists of numbers kept on one line (timings, k lists), so the file stays readable. */
export function formatJson(value) {
  return JSON.stringify(value, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items) => `[${items.split(/,\s*/).join(', ')}]`);
}

/** Writes the document atomically. */
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
