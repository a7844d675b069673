// @ts-check
/**
 * Timing by interleaved rounds. Every round times each candidate once (forward order on even
 * rounds, reversed on odd ones), so slow drift of the machine's speed (thermal, other load)
 * hits all candidates alike instead of whichever was timed last. Figures are medians.
 */
import { performance } from 'node:perf_hooks';

/**
 * Median of a non-empty list.
 *
 * @param {readonly number[]} values
 * @returns {number}
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Rounds a duration for the JSON (µs resolution is more than the noise).
 *
 * @param {number} ms
 * @returns {number}
 */
export function roundMs(ms) {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Times `candidates` (async functions) in interleaved rounds.
 *
 * @param {ReadonlyArray<() => unknown>} candidates each runs one timed call (awaited)
 * @param {import('./types.js').TimingOptions} options
 *   warmupRounds: untimed rounds first (first calls pay for allocation, graph building, kernel set-up);
 *   minRounds: timed rounds at least; minMs: keep going until the timed rounds took at least `minMs`
 *   per candidate; slowRoundMs: a round slower than this caps the rounds needed at 3 (long cells stay
 *   bounded); onRound: called after each timed round with (round, elapsedMs)
 * @returns {Promise<import('./types.js').Timing[]>} per candidate: { ms (median), runs, minMs, maxMs, timesMs }
 */
export async function timeInterleaved(candidates, options) {
  const { warmupRounds = 1, minRounds = 5, minMs = 0, slowRoundMs = 10_000, onRound } = options;
  for (let w = 0; w < warmupRounds; w++) for (const run of candidates) await run();
  const times = candidates.map(() => /** @type {number[]} */ ([]));
  const begin = performance.now();
  let rounds = 0;
  for (;;) {
    const order = candidates.map((_, i) => i);
    if (rounds % 2 === 1) order.reverse();
    for (const i of order) {
      const start = performance.now();
      await candidates[i]();
      times[i].push(performance.now() - start);
    }
    rounds++;
    const elapsed = performance.now() - begin;
    onRound?.(rounds, elapsed);
    const needed = elapsed / rounds > slowRoundMs ? Math.min(minRounds, 3) : minRounds;
    if (rounds >= needed && elapsed >= minMs * candidates.length) break;
  }
  return times.map((list) => ({
    ms: roundMs(median(list)),
    runs: list.length,
    minMs: roundMs(Math.min(...list)),
    maxMs: roundMs(Math.max(...list)),
    timesMs: list.map(roundMs),
  }));
}
