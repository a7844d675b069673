import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartToPixels, chartToSvg, layoutChart, logTicks, paretoFrontier } from '../lib/chart.mjs';
import { checkCompatible } from '../lib/results-file.mjs';
import { configKey, configurations, describeCheckpoint, parseQualityArgs, qualitySchema } from '../quality.mjs';
import { renderQuality, timedOnBusyMachine } from '../quality-report.mjs';
import { withRecipesTable } from '../report.mjs';
import { otherCpu } from '../lib/machine.mjs';
import { loadPackage } from '../lib/workspace.mjs';

const shipped = ['mnist-full', 'mnist-zero-c2', 'mnist-interpolate', 'mnist-multistage', 'mnist-ode2'];

describe('quality configurations', () => {
  it('counts Table 1 cells by hand: one c = 0 cell per model, one per fill and c > 0', () => {
    const options = parseQualityArgs(['--only', 'table1'], 'm');
    const configs = configurations(options, shipped);
    // full: zero × 5 c; zero-c2: c = 0 once + {zero, duplicate, cache} × 4 c > 0; interpolate, multistage, ode2: 5 each.
    expect(configs).toHaveLength(5 + (1 + 3 * 4) + 5 + 5 + 5);
    expect(new Set(configs.map((c) => c.key)).size).toBe(configs.length);
    expect(configs.filter((c) => c.c === 0).map((c) => c.model)).toEqual(shipped);
  });

  it('counts Table 3 cells by hand and shares DDIM-50 η = 1 with Table 1', () => {
    const both = configurations(parseQualityArgs(['--only', 'table1,table3'], 'm'), ['mnist-full', 'mnist-zero-c2']);
    const t3 = configurations(parseQualityArgs(['--only', 'table3'], 'm'), ['mnist-full', 'mnist-zero-c2']);
    // Two rows × (4 DDIM step counts × 3 η + 4 DPM-Solver++ step counts).
    expect(t3).toHaveLength(2 * (4 * 3 + 4));
    const shared = both.filter((c) => c.tables.length === 2).map((c) => c.key).sort();
    expect(shared).toEqual(['mnist-full|zero|c0|ddim50-eta1', 'mnist-zero-c2|zero|c2|ddim50-eta1']);
    // Table 1 for the two models (5 + 13) plus Table 3 (32) minus the 2 shared cells.
    expect(both).toHaveLength(18 + 32 - 2);
  });

  it('counts Table 4 cells by hand: the c = 0 baseline (shared with Table 1) and one cache:m cell per depth k and interval', () => {
    const t4 = configurations(parseQualityArgs(['--only', 'table4'], 'm'), shipped);
    expect(t4.map((c) => c.key)).toEqual([
      'mnist-full|zero|c0|ddim50-eta1',
      'mnist-full|cache:2|k3|ddim50-eta1',
      'mnist-full|cache:3|k3|ddim50-eta1',
      'mnist-full|cache:4|k3|ddim50-eta1',
      'mnist-full|cache:5|k3|ddim50-eta1',
      'mnist-full|cache:6|k3|ddim50-eta1',
      'mnist-full|cache:3|k2|ddim50-eta1',
      'mnist-full|cache:5|k2|ddim50-eta1',
      'mnist-full|cache:8|k2|ddim50-eta1',
    ]);
    const all = configurations(parseQualityArgs([], 'm'), ['mnist-full']);
    expect(all.find((c) => c.key === 'mnist-full|zero|c0|ddim50-eta1')?.tables).toEqual(['table1', 'table3', 'table4']);
    expect(configurations(parseQualityArgs(['--only', 'table4', '--quick'], 'm'), ['mnist-full']).map((c) => c.key)).toEqual([
      'mnist-full|zero|c0|ddim50-eta1',
      'mnist-full|cache:2|k3|ddim50-eta1',
      'mnist-full|cache:3|k2|ddim50-eta1',
    ]);
    expect(configurations(parseQualityArgs(['--only', 'table4'], 'm'), ['mnist-zero-c2'])).toEqual([]);
  });

  it('skips models that are not shipped', () => {
    expect(configurations(parseQualityArgs([], 'm'), ['mnist-ode2']).every((c) => c.model === 'mnist-ode2')).toBe(true);
    expect(configurations(parseQualityArgs([], 'm'), [])).toEqual([]);
  });

  it('keys DDIM cells by steps and η, DPM-Solver++ cells by steps', () => {
    expect(configKey({ model: 'm', fill: 'zero', c: 2, sampler: 'ddim', steps: 20, eta: 0.5 })).toBe('m|zero|c2|ddim20-eta0.5');
    expect(configKey({ model: 'm', fill: 'zero', c: 0, sampler: 'dpm-solver', steps: 15, eta: null })).toBe('m|zero|c0|dpm-solver15');
    expect(configKey({ model: 'm', fill: 'cache:4', c: null, k: 3, sampler: 'ddim', steps: 50, eta: 1 })).toBe('m|cache:4|k3|ddim50-eta1');
  });

  it('scores --checkpoint models in the recipes table only, at --recipe-cs, with the baselines\' Table 1 cells shared', () => {
    const options = { ...parseQualityArgs(['--checkpoint', 'B@1000=/tmp/b', '--recipe-cs', '0,2'], 'test'), recipeModels: [{ label: 'B@1000', dir: '/tmp/b', fill: 'interpolate' }] };
    expect(options.tables).toEqual(['recipes']);
    const keys = configurations(options, shipped).map((c) => c.key);
    // 2 baselines × 5 curvatures + the checkpoint at 2 curvatures, its c = 0 cell under its own fill label.
    expect(keys).toHaveLength(12);
    expect(keys).toContain('mnist-full|zero|c2|ddim50-eta1');
    expect(keys).toContain('B@1000|interpolate|c2|ddim50-eta1');
    expect(keys.filter((k) => k.startsWith('B@1000'))).toHaveLength(2);
    expect(() => parseQualityArgs(['--checkpoint', 'no-equals-sign'], 'test')).toThrow(/--checkpoint needs <label>=<dir>/);
    expect(() => parseQualityArgs(['--checkpoint', 'a=/x', '--checkpoint', 'a=/y'], 'test')).toThrow(/each label may be given once/);
    expect(() => parseQualityArgs(['--checkpoint', 'a=/x', '--recipe-cs', '4'], 'test')).toThrow(/--recipe-cs/);
  });

  it('rejects malformed flags with the flag named', () => {
    expect(() => parseQualityArgs(['--samples', '0'], 'm')).toThrow(/--samples/);
    expect(() => parseQualityArgs(['--samples', '1'], 'm')).toThrow(/at least 2/);
    expect(() => parseQualityArgs(['--only', 'table2'], 'm')).toThrow(/unknown table "table2"/);
    expect(() => parseQualityArgs(['--backend', 'torch'], 'm')).toThrow(/--backend/);
    expect(() => parseQualityArgs(['--fast'], 'm')).toThrow(/--fast.*see --help/);
    expect(parseQualityArgs(['--quick'], 'm').samples).toBe(100);
    expect(parseQualityArgs(['--quick', '--samples', '40'], 'm').samples).toBe(40);
  });

  it('refuses to merge results measured with another sample count', () => {
    const doc = { machine: { cpuModel: 'x', cores: 2 }, config: { quick: false, samples: 500 } };
    expect(() => checkCompatible(doc, 'f.json', { machine: { cpuModel: 'x', cores: 2 }, config: { quick: false, samples: 1000 } }, ['quick', 'samples'])).toThrow(/samples = 500, this run has 1000/);
    expect(() => checkCompatible(doc, 'f.json', { machine: { cpuModel: 'x', cores: 2 }, config: { quick: false, samples: 500 } }, ['quick', 'samples'])).not.toThrow();
  });
});

describe('chart', () => {
  it('puts 1-2-5 ticks inside the range, finer ones across the whole width of a narrow one', () => {
    expect(logTicks(0.9, 60)).toEqual([1, 2, 5, 10, 20, 50]);
    expect(logTicks(210, 290)).toEqual([220, 240, 260, 280]);
    expect(logTicks(65, 150)).toEqual([70, 80, 90, 100, 120, 150]);
    expect(logTicks(150, 450)).toEqual([200, 300, 400]);
  });

  it('keeps exactly the points nothing beats on both axes', () => {
    const points = [
      { x: 1, y: 10 },
      { x: 2, y: 5 },
      { x: 3, y: 7 }, // slower and worse than (2, 5)
      { x: 4, y: 1 },
      { x: 4, y: 3 }, // same time, worse
    ];
    expect(paretoFrontier(points)).toEqual([points[0], points[1], points[3]]);
  });

  it('draws points where the log axes put them, in SVG and in pixels', async () => {
    const chart = layoutChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', color: '#ff0000', points: [{ x: 10, y: 10 }, { x: 1000, y: 1000 }] }] });
    const circles = chart.shapes.filter((s) => s.kind === 'circle' && s.fill === '#ff0000' && s.r === 5);
    expect(circles).toHaveLength(3); // two points and the legend marker
    const [a, b] = circles;
    // Padding is ×1.25 on both ends, so the points sit symmetrically: the middle of the plot is x = y = 100.
    const plotLeft = 90;
    const plotRight = chart.width - 270;
    expect((a.cx + b.cx) / 2).toBeCloseTo((plotLeft + plotRight) / 2, 6);
    const svg = chartToSvg(chart);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(`cx="${Math.round(a.cx * 10) / 10}"`);
    const cli = await loadPackage('cli');
    const pixels = chartToPixels(chart, cli);
    const at = (x: number, y: number) => Array.from(pixels.data.subarray((Math.round(y) * chart.width + Math.round(x)) * 3, (Math.round(y) * chart.width + Math.round(x)) * 3 + 3));
    expect(at(a.cx, a.cy)).toEqual([255, 0, 0]);
    expect(at(5, chart.height - 5)).toEqual([255, 255, 255]);
  });
});

describe('quality report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'levelskip-quality-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const weights = { steps: 6000, images: 192000, durationMs: 1 };
  const currentWeights = new Map([['mnist-zero-c2', weights], ['mnist-full', weights]]);
  const cell = (model: string, fill: string, c: number, fd: number, msPerImage: number, tables = ['table1']) => ({
    model,
    fill,
    trainedFor: true,
    c,
    sampler: 'ddim',
    steps: 50,
    eta: 1,
    tables,
    weights,
    fdLenet: fd,
    floor: { mean: 9.3, min: 7.8, max: 11.8, blocks: 10, count: 500 },
    predictedFractionSaved: c === 0 ? 0 : 0.414,
    kHistogram: [50],
    sampleMs: msPerImage * 500,
    msPerImage,
    loadAverage: [0.1, 0.2],
    session: 1,
  });

  it('renders measured vs predicted time saved and the floor, and writes the chart', async () => {
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      sessions: [{ id: 1, startedAt: '2026-11-25T10:00:00.000Z', versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit: 'abcdef1234567', dirty: false }, missing: ['mnist-ode2'] }],
      cells: {
        a: cell('mnist-zero-c2', 'zero', 0, 50, 100),
        b: cell('mnist-zero-c2', 'zero', 2, 60, 60),
      },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'chart', currentWeights });
    // 1 − 60 / 100 = 40.0% measured, 41.4% predicted.
    expect(text).toContain('60.0 ms (40.0% / 41.4%)');
    expect(text).toContain('| mnist-zero-c2 / zero | 50.0 | — | 60.0 | — | — |');
    expect(text).toContain('9.30 (range 7.80–11.80 over 10 disjoint blocks of 500 held-out digits)');
    expect(text).toContain('Not shipped yet, so not scored: mnist-ode2');
    expect(readFileSync(join(dir, 'chart.svg'), 'utf8')).toContain('<circle');
    const png = readFileSync(join(dir, 'chart.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([960, 640]); // IHDR width, height
  });

  it('renders the recipes table: baselines first, then each recipe by step, with recognisable rate and time saved at c = 2', async () => {
    const training = { scheme: 'schedule-aware', initFrom: 'mnist-full', teacher: 'mnist-full', mix: 0.5, schedule: { kind: 'power', c: 2 }, fill: 'zero', steps: 3000 };
    const recipe = (model: string, c: number, fd: number, ms: number, steps: number) => ({
      ...cell(model, 'zero', c, fd, ms, ['recipes']),
      checkpoint: 'x',
      training: { ...training, steps },
      recognisable: 0.5,
      realRecognisable: 0.986,
    });
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      sessions: [{ id: 1, startedAt: '2026-12-06T10:00:00.000Z', versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit: 'abcdef1234567', dirty: false } }],
      cells: {
        f: cell('mnist-full', 'zero', 0, 45, 100),
        r1: recipe('B@1000', 2, 361.5, 60, 1000),
        r2: recipe('B@500', 2, 371.1, 60, 500),
        r3: recipe('B@1000', 0, 66.2, 100, 1000),
      },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'recipes', currentWeights });
    const section = text.slice(text.indexOf('### Recipes'), text.indexOf('### Quality vs time'));
    expect(section).toContain('(held-out real digits: 98.6%)');
    // 1 − 60 / 100 = 40.0% measured, 41.4% predicted.
    expect(section).toContain('| B@1000 / zero | from mnist-full, distilled from mnist-full (mix 0.5), schedule-aware c = 2, 1000 steps | 66.2 | — | 361.5 | — | — | 50.0% | 40.0% / 41.4% |');
    const order = ['mnist-full / zero', 'B@500 / zero', 'B@1000 / zero'].map((row) => section.indexOf(`| ${row} |`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Recipe cells stay out of the Pareto chart of the shipped models.
    expect(readFileSync(join(dir, 'recipes.svg'), 'utf8')).not.toContain('B@1000');
  });

  it('writes the recipes table between the README\'s markers, and only there', () => {
    const results = join(dir, 'readme-results');
    mkdirSync(results, { recursive: true });
    const recipeCell = { ...cell('A@500', 'zero', 2, 399.8, 60, ['recipes']), checkpoint: 'x', training: { steps: 500, scheme: 'schedule-aware' }, recognisable: 0.476 };
    writeFileSync(
      join(results, 'quality-test.json'),
      JSON.stringify({ schema: qualitySchema, machine: { cores: 2 }, config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' }, sessions: [], cells: { a: recipeCell } }),
    );
    const begin = '<!-- generated by pnpm bench report: recipes table -->';
    const end = '<!-- end of generated recipes table -->';
    const readme = `intro\n${begin}\nstale text\n${end}\noutro\n`;
    const once = withRecipesTable(readme, results);
    expect(once).not.toContain('stale text');
    expect(once).toContain('| A@500 / zero |');
    expect(once.startsWith(`intro\n${begin}`)).toBe(true);
    expect(once.endsWith(`${end}\noutro\n`)).toBe(true);
    expect(withRecipesTable(once, results)).toBe(once);
    expect(withRecipesTable('no markers here', results)).toBe('no markers here');
  });

  it('renders Table 4 against the same model\'s c = 0 cell, with its full-depth step count', async () => {
    const cached = { ...cell('mnist-full', 'cache:3', 0, 70, 55, ['table4']), c: null, k: 3, predictedFractionSaved: 0.445, kHistogram: [17, 0, 0, 33] };
    const cachedK2 = { ...cell('mnist-full', 'cache:5', 0, 65, 80, ['table4']), c: null, k: 2, predictedFractionSaved: 0.25, kHistogram: [10, 0, 40, 0] };
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      sessions: [{ id: 1, startedAt: '2026-11-25T10:00:00.000Z', versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit: 'abcdef1234567', dirty: false } }],
      cells: { base: cell('mnist-full', 'zero', 0, 60, 100, ['table1', 'table4']), cached, cachedK2 },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'chart4', currentWeights });
    // 1 − 55 / 100 = 45.0% measured; 17 of 50 steps at k = 0.
    expect(text).toContain('| mnist-full, k = 3, cache:3 | 17 | 70.0 | 55.0 ms | 45.0% | 44.5% |');
    expect(text).toContain('| mnist-full, c = 0 (every level at every step) | 50 | 60.0 | 100.0 ms | 0.0% | 0.0% |');
    // 1 − 80 / 100 = 20.0%; 10 of 50 steps at k = 0. One table: the baseline once, k = 3 rows, then k = 2.
    expect(text).toContain('| mnist-full, k = 2, cache:5 | 10 | 65.0 | 80.0 ms | 20.0% | 25.0% |');
    expect(text.match(/mnist-full, c = 0 \(every level/g)).toHaveLength(1);
    expect(text.indexOf('k = 3, cache:3')).toBeLessThan(text.indexOf('k = 2, cache:5'));
    expect(text).not.toContain('Table 4 not measured');
  });

  it('leaves out cells measured with earlier weights of a model, and says so', async () => {
    const older = { ...cell('mnist-full', 'zero', 2, 500, 60), weights: { steps: 3464, images: 110848, durationMs: 1 } };
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      sessions: [{ id: 1, startedAt: '2026-11-25T10:00:00.000Z', versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit: 'abcdef1234567', dirty: false } }],
      cells: { base: cell('mnist-full', 'zero', 0, 45, 100), older },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'chart-stale', currentWeights });
    expect(text).toMatch(/\| mnist-full \/ zero[^|]* \| 45\.0 \| — \| — \| — \| — \|/);
    expect(text).not.toContain('500.0');
    expect(text).toContain('**Left out:** 1 configuration(s) measured with earlier weights (mnist-full at 3464 training steps)');
    expect(text).toContain('1 configurations');
  });

  it('times a Table 3 DDIM row by the median of its η runs', async () => {
    const ddim10 = (eta: number, fd: number, ms: number) => ({ ...cell('mnist-full', 'zero', 0, fd, ms, ['table3']), steps: 10, eta });
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      sessions: [{ id: 1, startedAt: '2026-12-04T10:00:00.000Z', versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit: 'abcdef1234567', dirty: false } }],
      cells: {
        a: ddim10(0, 102, 47),
        b: ddim10(0.5, 106, 43),
        c: ddim10(1, 86, 52),
        d: { ...cell('mnist-full', 'zero', 0, 68, 40, ['table3']), sampler: 'dpm-solver', steps: 10, eta: null },
      },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'chart-t3', currentWeights });
    // Median of 47, 43 and 52 ms is 47; DPM-Solver++ has one run.
    expect(text).toContain('| DDIM-10 | 102.0 | 106.0 | 86.0 | 47.0 ms |');
    expect(text).toContain('| DPM-Solver++ 10 | 68.0 |  |  | 40.0 ms |');
  });

  it('dates the results by the sessions its cells come from, not every session in the file', async () => {
    const session = (id: number, startedAt: string, commit: string) => ({ id, startedAt, versions: { node: 'v20', onnxruntimeNode: '1' }, git: { commit, dirty: false } });
    const doc = {
      schema: qualitySchema,
      machine: { cpuModel: 'Test CPU', cores: 2 },
      config: { quick: false, samples: 500, batch: 50, seed: 0, backend: 'onnx' },
      // Session 1's cells were all re-measured by session 2; session 3 measured nothing.
      sessions: [session(1, '2026-11-25T10:00:00.000Z', 'aaaaaaaaaa11'), session(2, '2026-12-04T10:00:00.000Z', 'bbbbbbbbbb22'), session(3, '2026-12-05T10:00:00.000Z', 'cccccccccc33')],
      cells: { a: { ...cell('mnist-full', 'zero', 0, 45, 100), session: 2 }, b: { ...cell('mnist-full', 'zero', 2, 60, 60), session: 2 } },
    };
    const text = await renderQuality(doc, 'q.json', { outDirectory: dir, assetName: 'chart-sessions', currentWeights });
    expect(text).toContain('measured 2026-12-04 in 1 session(s), 2 configurations');
    expect(text).toContain('commit `bbbbbbbbbb`');
    expect(text).not.toContain('2026-11-25');
  });

  it('flags a cell as timed on a busy machine by other processes\' CPU use, or by the load average for older cells', () => {
    const base = cell('mnist-full', 'zero', 0, 45, 100);
    // A tenth of 2 cores is 0.2: the benchmark's own threads never count.
    expect(timedOnBusyMachine({ ...base, loadAverage: [2.1, 2.0], otherCores: 0.05, stealCores: 0 }, 2)).toBe(false);
    expect(timedOnBusyMachine({ ...base, loadAverage: [2.1, 2.0], otherCores: 0.15, stealCores: 0.1 }, 2)).toBe(true);
    expect(timedOnBusyMachine({ ...base, loadAverage: [0.6, 0.2] }, 2)).toBe(true);
    expect(timedOnBusyMachine({ ...base, loadAverage: [0.4, 0.2] }, 2)).toBe(false);
  });
});

describe('other CPU use during a measurement', () => {
  it('is the machine\'s busy time less this process\'s own, per second of wall time', () => {
    const before = { busySeconds: 100, stealSeconds: 1, ownSeconds: 10, wallSeconds: 50 };
    // 10 s of wall time: the machine was busy 19 s, 18 of them this process's, 0.5 s stolen.
    expect(otherCpu(before, { busySeconds: 119, stealSeconds: 1.5, ownSeconds: 28, wallSeconds: 60 })).toEqual({ otherCores: 0.1, stealCores: 0.05 });
    // Counter granularity can make the difference slightly negative: clamped at 0.
    expect(otherCpu(before, { busySeconds: 117.9, stealSeconds: 1, ownSeconds: 28, wallSeconds: 60 })).toEqual({ otherCores: 0, stealCores: 0 });
    expect(otherCpu({ ...before, busySeconds: null }, { busySeconds: null, stealSeconds: null, ownSeconds: 28, wallSeconds: 60 })).toBeNull();
  });
});

describe('--checkpoint directories (the recipes table)', () => {
  const root = mkdtempSync(join(tmpdir(), 'levelskip-quality-checkpoint-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A model.json as saveCheckpoint writes it, with `training` as its record (the weights file is not read). */
  async function checkpointWith(name: string, training: Record<string, unknown>): Promise<string> {
    const core = await loadPackage('core');
    const spec = core.parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4 });
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), core.serializeCheckpoint({ spec, weights: core.randomWeights(spec, { seed: 0 }), training: { steps: 1 } }).manifest.replace(/"training": \{[^}]*\}/, `"training": ${JSON.stringify(training)}`));
    return dir;
  }

  it("reads the fill, the weights identity and the record's described fields through core's checked reader", async () => {
    const core = await loadPackage('core');
    const training = { scheme: 'schedule-aware', initFrom: 'mnist-full', schedule: { kind: 'power', c: 2 }, fill: 'zero', steps: 500, images: 16000, durationMs: 99, lr: 2e-4, history: 'not described' };
    const dir = await checkpointWith('good', training);
    const described = describeCheckpoint(core, { label: 'A@500', dir });
    expect(described.fill).toBe('zero');
    expect(described.weights).toEqual({ steps: 500, images: 16000, durationMs: 99 });
    expect(described.training).toEqual({ scheme: 'schedule-aware', initFrom: 'mnist-full', schedule: { kind: 'power', c: 2 }, fill: 'zero', steps: 500, images: 16000, lr: 2e-4, durationMs: 99 });
  });

  it('refuses a malformed training record naming the field, and a record without a fill', async () => {
    const core = await loadPackage('core');
    const bad = await checkpointWith('bad', { fill: 'zero', steps: 'five hundred' });
    expect(() => describeCheckpoint(core, { label: 'bad', dir: bad })).toThrow(/--checkpoint bad: .*model\.json is not a valid checkpoint manifest:\n {2}training\.steps: /);
    const unfilled = await checkpointWith('unfilled', { steps: 3 });
    expect(() => describeCheckpoint(core, { label: 'u', dir: unfilled })).toThrow(/has no training\.fill/);
  });
});
