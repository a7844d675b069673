import { describe, expect, it } from 'vitest';
import { configKey, configurations, parseQualityArgs, table5 } from '../quality.mjs';
import { spearman, table3Section, table5ChartSpec, table5Predictions, table5Section, timeCaveat } from '../quality-report.mjs';

describe('quality table 5: calibrated schedules beside the hand-made families', () => {
  it('is opt-in, and measures each row\'s family, its c = 0 baseline and the auto budgets', () => {
    const models = ['mnist-full', 'mnist-zero-c2'];
    expect(configurations(parseQualityArgs([], 'm'), models).some((c) => c.tables.includes('table5'))).toBe(false);
    const keys = configurations(parseQualityArgs(['--only', 'table5'], 'm'), models).map((c) => c.key);
    expect(keys).toContain('mnist-full|cache:3|k3|ddim50-eta1');
    expect(keys).toContain('mnist-full|cache|auto0.445|ddim50-eta1');
    expect(keys).toContain('mnist-zero-c2|zero|c2|ddim50-eta1');
    expect(keys).toContain('mnist-zero-c2|zero|auto0.414|ddim50-eta1');
    expect(keys).toHaveLength(2 * 1 + 4 + 4 + 4 + 4);
    // A table-5 family cell is the same cell as Table 1's or Table 4's.
    const both = configurations(parseQualityArgs(['--only', 'table4,table5'], 'm'), models);
    expect(both.find((c) => c.key === 'mnist-full|cache:2|k3|ddim50-eta1')?.tables).toEqual(['table4', 'table5']);
    expect(configKey({ model: 'm', fill: 'zero', c: null, k: null, auto: 0.4, sampler: 'ddim', steps: 50, eta: 1 })).toBe('m|zero|auto0.4|ddim50-eta1');
  });

  it('renders each row sorted by FLOP-predicted saving, marking the Pareto-optimal configurations by FLOPs and busy-machine times', () => {
    const cell = (extra: Record<string, unknown>, fd: number, ms: number, saved: number) => ({ model: 'mnist-full', sampler: 'ddim', steps: 50, eta: 1, fdLenet: fd, msPerImage: ms, predictedFractionSaved: saved, kHistogram: [20, 0, 0, 30], otherCores: 0, ...extra });
    const row = table5.rows[0]!;
    const doc = {
      machine: { cores: 2 },
      cells: {
        base: cell({ fill: 'zero', c: 0 }, 50, 100, 0),
        m3: cell({ fill: 'cache:3', c: null, k: 3 }, 67.5, 60, 0.445),
        // Timed while other work took 1.1 of the 2 cores.
        auto: cell({ fill: 'cache', c: null, k: null, auto: row.budgets[1], otherCores: 1.1 }, 40, 90, 0.448),
        dominated: cell({ fill: 'cache:2', c: null, k: 3 }, 70, 70, 0.337),
      },
    };
    const text = table5Section(doc);
    expect(text).toContain('**mnist-full, cache fill: auto vs cache:m with k = 3, the DeepCache family**');
    const lines = text.split('\n').filter((line) => line.startsWith('| cache') || line.startsWith('| auto'));
    // Sorted by FLOP-predicted saving: auto (44.8 %), cache:3 (44.5 %), cache:2 (33.7 %); cache:3 and cache:2 save fewer FLOPs for a worse FD.
    expect(lines.map((line) => line.split(' | ')[0])).toEqual([`| auto:${row.budgets[1]}, cache`, '| cache:3, k = 3', '| cache:2, k = 3']);
    const columns = lines.map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    // By FLOPs: auto saves the most FLOPs and scores best, so it dominates both.
    expect(columns.map((c) => c[6])).toEqual(['yes', '', '']);
    // By measured time, against c = 0 too: cache:3 (60 ms, 67.5) is the fastest; cache:2 (70 ms, 70) is
    // slower and worse; auto (90 ms, 40) is better than everything faster; c = 0 (100 ms, 50) is beaten by auto.
    // The busy cell keeps its flag wherever its time enters.
    expect(columns.map((c) => c[7])).toEqual(['yes (busy machine)', 'yes', '']);
    expect(text.split('\n').find((line) => line.startsWith('| c = 0'))?.trim().endsWith('|  |  |  |')).toBe(true);
    expect(lines[0]).toContain('90.0 ms (busy machine) | 10.0% (busy machine) | 44.8%');
    expect(lines[1]).toContain('| 40.0% | 44.5%');
    expect(table5Section({ cells: {} })).toContain('pnpm bench quality --only table5');
  });

  it('charts each row by measured time as a fraction of its c = 0, with its Pareto front by time', () => {
    const cell = (extra: Record<string, unknown>, fd: number, ms: number, saved: number) => ({ model: 'mnist-full', sampler: 'ddim', steps: 50, eta: 1, fdLenet: fd, msPerImage: ms, predictedFractionSaved: saved, kHistogram: [20, 0, 0, 30], otherCores: 0, ...extra });
    const row = table5.rows[0]!;
    const cells = {
      base: cell({ fill: 'zero', c: 0 }, 50, 100, 0),
      m2: cell({ fill: 'cache:2', c: null, k: 3 }, 55, 70, 0.337),
      m3: cell({ fill: 'cache:3', c: null, k: 3 }, 67.5, 60, 0.445),
      auto: cell({ fill: 'cache', c: null, k: null, auto: row.budgets[1], otherCores: 1.1 }, 54, 62, 0.448),
    };
    const spec = table5ChartSpec({ machine: { cores: 2 }, config: { samples: 500 }, cells } as never)!;
    expect(spec.series.map((s) => s.name)).toEqual(['mnist-full / cache:m, k = 3', 'mnist-full / auto, cache']);
    // x: time per image / c = 0's 100 ms.
    // cache:2 (0.7, 55) is slower and worse than auto (0.62, 54): not on the front.
    expect(spec.series[0]!.points.map((p) => [p.x, p.y, p.highlight])).toEqual([
      [0.7, 55, false],
      [0.6, 67.5, true],
    ]);
    expect(spec.series[1]!.points.map((p) => [p.x, p.y, p.highlight, p.label])).toEqual([[0.62, 54, true, `a=${row.budgets[1]}`]]);
    // The row's front by time, fastest first: cache:3 (0.6, 67.5), then auto (0.62, 54).
    expect(spec.frontiers?.[0]?.points).toEqual([
      { x: 0.6, y: 67.5 },
      { x: 0.62, y: 54 },
    ]);
    expect(spec.title).toContain('1 cells timed busy');
    expect(spec.frontiers?.[0]?.color).toBe(spec.series[1]!.color);
    expect(table5ChartSpec({ machine: { cores: 2 }, config: { samples: 500 }, cells: {} } as never)).toBeUndefined();
  });

  const cell = (extra: Record<string, unknown>, fd: number, ms: number, saved: number) => ({ model: 'mnist-full', sampler: 'ddim', steps: 50, eta: 1, fdLenet: fd, msPerImage: ms, predictedFractionSaved: saved, kHistogram: [17, 0, 0, 33], otherCores: 0, session: 1, ...extra });

  it('says "other run" where a cell and its c = 0 were timed in different runs of the bench, in every column its time enters', () => {
    const base = cell({ fill: 'zero', c: 0 }, 50, 100, 0);
    const later = cell({ fill: 'cache:3', c: null, k: 3, session: 2 }, 67.5, 60, 0.445);
    expect(timeCaveat(later, base, 2)).toBe('other run');
    expect(timeCaveat({ ...later, session: 1 }, base, 2)).toBe('');
    expect(timeCaveat({ ...later, otherCores: 1.1 }, base, 2)).toBe('busy machine');
    const text = table5Section({ machine: { cores: 2 }, cells: { base, later, auto: cell({ fill: 'cache', c: null, k: null, auto: 0.445 }, 60, 80, 0.446) } } as never);
    expect(text).toContain('| 60.0 ms | 40.0% (other run) | 44.5%');
    expect(text).toContain('| 80.0 ms | 20.0% | 44.6%');
  });

  it('with predictions: the predicted error of each cell, "plan changed" where the cell ran other depths, and the rank correlation with FD-LeNet', () => {
    const cells = {
      base: cell({ fill: 'zero', c: 0 }, 50, 100, 0),
      m2: cell({ fill: 'cache:2', c: null, k: 3 }, 55, 70, 0.337),
      m3: cell({ fill: 'cache:3', c: null, k: 3 }, 67.5, 60, 0.445),
      auto: cell({ fill: 'cache', c: null, k: null, auto: 0.445 }, 60, 62, 0.446),
      stale: cell({ fill: 'cache', c: null, k: null, auto: 0.337 }, 52, 72, 0.338),
    };
    const predictions = new Map<unknown, { predictedError: number; sameDepths: boolean }>([
      [cells.m2, { predictedError: 6.75, sameDepths: true }],
      [cells.m3, { predictedError: 21.8, sameDepths: true }],
      [cells.auto, { predictedError: 7.88, sameDepths: true }],
      [cells.stale, { predictedError: 1.76, sameDepths: false }],
    ]);
    const text = table5Section({ machine: { cores: 2 }, cells } as never, predictions as never);
    expect(text).toContain('| schedule | FD-LeNet | predicted error | time per image |');
    expect(text).toContain('| c = 0 (full depth) | 50.0 | 0 | 100.0 ms |');
    expect(text).toContain('| auto:0.445, cache | 60.0 | 7.88 | 62.0 ms |');
    expect(text).toContain('| auto:0.337, cache | 52.0 | 1.76 (plan changed) |');
    // Ranks over the three cells whose plan is the one measured: predicted 6.75 < 7.88 < 21.8 and
    // FD 55 < 60 < 67.5 agree, so ρ = 1; the stale cell is left out.
    expect(text).toContain('Spearman ρ = 1.00 over its 3 skipping schedules');
    // At equal budgets: auto:0.445 against the family cell of the nearest FLOP saving (cache:3).
    expect(text).toContain('auto:0.445 vs cache:3: predicted ×0.36, FD-LeNet ×0.89');
  });

  it("Spearman's ρ by hand: perfect agreement, reversal, ties with average ranks, and too few pairs", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // Ranks x: 1, 2, 3, 4; y = [1, 3, 2, 4]: Σd² = 2, ρ = 1 − 6·2/(4·15) = 0.8.
    expect(spearman([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    // Ties: y ranks 1.5, 1.5, 3 against x ranks 1, 2, 3: Pearson of the ranks = 1.5/√(2·1.5) = √3/2.
    expect(spearman([1, 2, 3], [5, 5, 9])).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(spearman([1, 2], [1, 2])).toBeUndefined();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeUndefined();
  });

  it("predictions from the shipped models' calibration tables: eq. (1)'s and cache:m's depths, and the auto plan the CLI makes", async () => {
    const doc = {
      cells: {
        base: cell({ fill: 'zero', c: 0 }, 50, 100, 0),
        m3: cell({ fill: 'cache:3', c: null, k: 3 }, 67.5, 60, 0.445),
        // cache:2's 25 refreshes recorded as if it ran cache:3's 17: the recomputed depths disagree.
        m2: cell({ fill: 'cache:2', c: null, k: 3 }, 55, 70, 0.337),
        auto: cell({ fill: 'cache', c: null, k: null, auto: 0.445, kHistogram: [0, 0, 0, 0] }, 60, 62, 0.446),
        c2: cell({ model: 'mnist-c2-distill', fill: 'zero', c: 2, kHistogram: [7, 8, 10, 25] }, 305, 80, 0.414),
        c2auto: cell({ model: 'mnist-c2-distill', fill: 'zero', c: null, k: null, auto: 0.414, kHistogram: [7, 8, 10, 25] }, 260, 80, 0.415),
      },
    };
    const p = await table5Predictions(doc as never);
    const at = (key: keyof typeof doc.cells) => p.get(doc.cells[key] as never);
    expect(at('m3')?.sameDepths).toBe(true);
    expect(at('m2')?.sameDepths).toBe(false);
    expect(at('auto')?.sameDepths).toBe(false);
    expect(at('c2')?.sameDepths).toBe(true);
    // The DP's optimum has less predicted error than the hand-made schedule at the same budget.
    expect(at('m3')!.predictedError).toBeGreaterThan(at('auto')!.predictedError);
    expect(at('c2')!.predictedError).toBeGreaterThan(at('c2auto')!.predictedError);
  });

  it("Table 3's question at equal measured time: each skipping run beside the slowest full-depth run of the same run of the bench that is no slower", () => {
    const run = (model: string, c: number, steps: number, fd: number, ms: number, session = 1) => ({ model, fill: 'zero', c, sampler: 'ddim', steps, eta: 1, fdLenet: fd, msPerImage: ms, otherCores: 0, session, tables: ['table3'] });
    const doc = {
      machine: { cores: 2 },
      cells: {
        s10: run('mnist-c2-distill', 2, 10, 480, 17),
        s50: run('mnist-c2-distill', 2, 50, 305, 78),
        f10: run('mnist-full', 0, 10, 86, 27),
        f20: run('mnist-full', 0, 20, 57, 54),
        f50: run('mnist-full', 0, 50, 45, 127),
        // As fast as s50 but from another run of the bench: not a match.
        f20old: run('mnist-full', 0, 30, 50, 70, 2),
      },
    };
    const text = table3Section(doc as never);
    expect(text).toContain('**At equal measured time**');
    // DDIM-10 with skipping (17 ms) is faster than every full-depth run: no row.
    expect(text).not.toContain('mnist-c2-distill, c = 2, DDIM-10 |');
    expect(text).toContain('| mnist-c2-distill, c = 2, DDIM-50 | 305.0 | 78.0 ms | DDIM-20 | 57.0 | 54.0 ms | fewer full-depth steps |');
  });
});
