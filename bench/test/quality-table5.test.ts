import { describe, expect, it } from 'vitest';
import { configKey, configurations, parseQualityArgs, table5 } from '../quality.mjs';
import { table5Section } from '../quality-report.mjs';

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
    expect(lines.map((line) => line.trim().endsWith('| yes |'))).toEqual([true, false, false]);
    // The busy cell's time is flagged, and no measured saving is computed from it.
    expect(lines[0]).toContain('90.0 ms (busy machine) | busy machine | 44.8%');
    expect(lines[1]).toContain('| 40.0% | 44.5%');
    expect(table5Section({ cells: {} })).toContain('pnpm bench quality --only table5');
  });
});
