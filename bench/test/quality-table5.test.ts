import { describe, expect, it } from 'vitest';
import { configKey, configurations, parseQualityArgs, table5 } from '../quality.mjs';
import { table5ChartSpec, table5Section } from '../quality-report.mjs';

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
});
