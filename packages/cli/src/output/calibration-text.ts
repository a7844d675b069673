/**
 * A calibration table as text, for `levelskip calibrate` and `levelskip info`: where it comes from,
 * the cost of each depth, and the ε errors per timestep, depth, fill (and cache age).
 */
import type { CalibratedCacheFill, CalibratedStatelessFill, CalibrationTable } from '@levelskip/core';
import { formatTable } from './format-table.js';

/** 3 significant digits, plain or in exponent form for very small or large values; `-` for missing. */
function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < 1e5 ? String(Number(value.toPrecision(3))) : value.toExponential(2);
}

function formatCost(table: CalibrationTable, value: number): string {
  return table.costUnit === 'ms' ? `${value.toFixed(1)} ms` : `${(value / 1e6).toFixed(1)} MFLOPs`;
}

/** The lines describing `table`, each without a trailing newline (tables end with one). */
export function formatCalibrationTable(table: CalibrationTable): string[] {
  const out: string[] = [];
  const when = table.createdAt === undefined ? '' : `, ${table.createdAt.slice(0, 10)}`;
  const took = table.seconds === undefined ? '' : ` in ${table.seconds.toFixed(1)} s`;
  out.push(
    `Calibration (model.json "calibration"): ${table.samples} held-out images, seed ${table.seed}, ${table.timesteps.length} timesteps, ` +
      `k = ${table.ks.join(', ')}, fills ${table.fills.map((f) => f.fill).join(', ')}; measured on ${table.backend ?? 'an unrecorded backend'}${took}${when}`,
  );
  const unit = table.costUnit === 'ms' ? `ms per predict at batch ${table.costBatch}` : 'FLOPs per sample';
  out.push(`Cost per prediction (${unit}):`);
  out.push(formatTable(['fill', ...['0', ...table.ks.map(String)].map((k) => ({ header: `k=${k}`, align: 'right' as const }))], table.fills.map((f) => [f.fill, ...f.cost.map((c) => formatCost(table, c))])));
  out.push(`ε error: mean ‖ε_k − ε_0‖² per image over ${table.dimensions} values (x0 error = (1 − ᾱ_t)/ᾱ_t × this); columns: timestep t`);
  const columns = ['fill', { header: 'k', align: 'right' as const }, ...table.timesteps.map((t) => ({ header: `t=${t}`, align: 'right' as const }))];
  const rows: string[][] = [];
  for (const entry of table.fills) {
    if (entry.fill !== 'cache') {
      const stateless = entry as CalibratedStatelessFill;
      table.ks.forEach((k, j) => rows.push([entry.fill, String(k), ...stateless.epsilonError.map((row) => formatValue(row[j]))]));
      continue;
    }
    const cache = entry as CalibratedCacheFill;
    cache.ages.forEach((age, a) => {
      table.ks.forEach((k, j) => rows.push([`cache, age ${age}`, String(k), ...cache.epsilonError.map((row) => formatValue(row[j]![a]))]));
    });
  }
  out.push(formatTable(columns, rows));
  const cache = table.fills.find((f) => f.fill === 'cache') as CalibratedCacheFill | undefined;
  if (cache !== undefined) out.push(`Cache ages count sampler steps of ${cache.stepSpacing} timesteps since the full-depth step that filled the cache; - : not measurable (that step would lie beyond T − 1).`);
  return out;
}
