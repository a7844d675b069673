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

  it('renders each row sorted by time, marking the Pareto-optimal configurations', () => {
    const cell = (extra: Record<string, unknown>, fd: number, ms: number) => ({ model: 'mnist-full', sampler: 'ddim', steps: 50, eta: 1, fdLenet: fd, msPerImage: ms, predictedFractionSaved: 0.4, kHistogram: [20, 0, 0, 30], ...extra });
    const row = table5.rows[0]!;
    const doc = {
      cells: {
        base: cell({ fill: 'zero', c: 0 }, 50, 100),
        m3: cell({ fill: 'cache:3', c: null, k: 3 }, 67.5, 60),
        auto: cell({ fill: 'cache', c: null, k: null, auto: row.budgets[1] }, 40, 62),
        slowWorse: cell({ fill: 'cache:2', c: null, k: 3 }, 70, 70),
      },
    };
    const text = table5Section(doc);
    expect(text).toContain('**mnist-full, cache fill: auto vs cache:m with k = 3, the DeepCache family**');
    const lines = text.split('\n').filter((line) => line.startsWith('| cache') || line.startsWith('| auto'));
    // Sorted by time per image: cache:3 (60 ms), auto (62 ms), cache:2 (70 ms); the last is dominated.
    expect(lines.map((line) => line.split(' | ')[0])).toEqual(['| cache:3, k = 3', `| auto:${row.budgets[1]}, cache`, '| cache:2, k = 3']);
    expect(lines.map((line) => line.trim().endsWith('| yes |'))).toEqual([true, true, false]);
    expect(table5Section({ cells: {} })).toContain('pnpm bench quality --only table5');
  });
});
