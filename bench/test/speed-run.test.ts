/**
 * A real, minimal `pnpm bench speed` run (mnistSmall, batch 1, zero fill, predict() only, quick
 * rounds) on onnxruntime and tfjs-wasm into a temporary results file: which cells it writes, their
 * shape, the derived tables, and that a rerun resumes (measures nothing). No time is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSpeed } from '../speed.mjs';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-speed-run-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const argv = ['--only', 'mnistSmall', '--backends', 'onnx,tfjs', '--batches', '1', '--fills', 'zero', '--cs', '2', '--parts', 'predict', '--quick', '--out', join(directory, 'speed.json')];

describe('pnpm bench speed, smallest run', () => {
  it('writes one predict cell per backend, every k timed, and the tables derived from them', async () => {
    const result = await runSpeed(argv);
    const doc = result!.doc;
    expect(Object.keys(doc.cells).sort()).toEqual(['predict|mnistSmall|onnx|b1|zero', 'predict|mnistSmall|tfjs-wasm|b1|zero']);
    expect(doc.sessions.map((s) => s.status)).toEqual(['complete']);
    for (const cell of Object.values(doc.cells)) {
      // mnistSmall has N = 4 levels and one decoder: k = 0 .. 3 at timestep 500, two timed rounds each (--quick).
      expect(cell).toMatchObject({ kind: 'predict', model: 'mnistSmall', batch: 1, fill: 'zero', sidePaths: false, timestep: 500, session: 0 });
      expect((cell as { ks: Array<{ k: number; runs: number }> }).ks.map((e) => [e.k, e.runs])).toEqual([[0, 2], [1, 2], [2, 2], [3, 2]]);
    }
    // threads: onnxruntime gets --threads (default 2), tfjs-wasm in Node is single-threaded.
    expect(doc.cells['predict|mnistSmall|onnx|b1|zero']).toMatchObject({ threads: 2 });
    expect(doc.cells['predict|mnistSmall|tfjs-wasm|b1|zero']).toMatchObject({ threads: 1 });
    const derived = doc.derived!;
    // 2 cells × 4 k; per-k equivalents at c = 2 for DDIM-50 and DDPM-1000 per cell; no sample() runs, no peer.
    expect(derived.perK).toHaveLength(8);
    expect(derived.table2.map((r) => `${r.backend} ${r.sampler} ${r.source} c${r.c}`)).toEqual([
      'onnx ddim50 per-k c2',
      'onnx ddpm1000 per-k c2',
      'tfjs-wasm ddim50 per-k c2',
      'tfjs-wasm ddpm1000 per-k c2',
    ]);
    expect(derived.throughputVsTorch).toEqual([]);
  });

  it('measures nothing when the results file holds every cell already', async () => {
    const result = await runSpeed(argv);
    expect(result!.doc.sessions).toHaveLength(1);
    expect(Object.keys(result!.doc.cells)).toHaveLength(2);
  });
});
