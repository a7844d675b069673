/**
 * The speed suite's derived figures, computed from the raw cells of a results file (see the
 * schema at the top of bench/report.mjs): the per-k table, the paper's Table 2 with our
 * backends (time saved measured vs FLOP-predicted), throughput against the PyTorch peer, and
 * achieved GFLOP/s against each runtime's peak. Pure functions; `bench/speed.mjs` stores the
 * result as the file's `derived` field and `bench/report.mjs` renders it.
 *
 * Definitions:
 * - k at each step: Giladi et al.'s power schedule, eq. (1), k(t) = min(N-1, ⌊N − N(1−t)^c⌋),
 *   t = timestep / T, over DDIM-50 ("leading" spacing: 980, 960, …, 0) or DDPM-1000 (999 … 0).
 * - The cache fill: a step whose cut level holds no cached features yet runs at full depth
 *   (with c > 0, the first step), so its effective k list differs from the schedule's.
 * - Predicted saved = 1 − Σ_i FLOPs(k_i) / (n · FLOPs(0)) with core's flopTable (interpolate
 *   counts its side paths); for every fill but cache this is core's `predictedTimeSaved`, and
 *   the two are checked to agree.
 * - Measured saved, real runs = 1 − t(c) / t(0), medians of DDIM-50 sample() runs timed in
 *   alternating order within one cell; t(0) is the full network without fill or feature cache.
 * - Measured saved, per-step-cost equivalent = 1 − Σ_i ms(k_i) / (n · ms_full), ms from the
 *   per-k predict() medians (ms(0) with cache writes for the cache fill, ms_full without).
 * - Ratio = measured / predicted (1 = the backend turns every skipped FLOP into saved time).
 */

export const samplerIds = ['ddim50', 'ddpm1000'];

/** The effective depth of each step with the cache fill (core's rule, level-skipping-unet.ts). */
export function effectiveCacheKs(ks, levels) {
  const cached = new Set();
  return ks.map((k) => {
    const effective = k > 0 && !cached.has(levels - 1 - k) ? 0 : k;
    // Every computed upsample stores decoder level l-1's input: levels 0 .. cut-1.
    for (let level = 0; level < levels - 1 - effective; level++) cached.add(level);
    return effective;
  });
}

/** Specs, FLOP tables and step lists of the presets; everything predicted depends only on these. */
export function modelContext(core, samplers, name) {
  const preset = core.presets[name];
  if (preset === undefined) throw new Error(`unknown preset ${name}`);
  const spec = core.parseUNetSpec(preset);
  const sideSpec = core.parseUNetSpec({ ...preset, sidePaths: true });
  const timesteps = { ddim50: samplers.ddim({ steps: 50 }).timesteps, ddpm1000: samplers.ddpm().timesteps };
  return { name, spec, sideSpec, levels: spec.channelMults.length, table: core.flopTable(spec), sideTable: core.flopTable(sideSpec), timesteps };
}

/** Spec of the model a fill runs on: interpolate needs side paths. */
export function specForFill(context, fill) {
  return fill === 'interpolate' ? context.sideSpec : context.spec;
}

/** The k of every step of `sampler` under powerSchedule(c), nominal and effective for `fill`. */
export function scheduleKs(core, context, sampler, c, fill) {
  const T = context.spec.trainTimesteps;
  const steps = context.timesteps[sampler];
  const schedule = c === 0 ? null : core.powerSchedule({ c });
  const nominal = steps.map((t) => (schedule === null ? 0 : schedule.kAt(t / T, context.levels)));
  return { nominal, effective: fill === 'cache' ? effectiveCacheKs(nominal, context.levels) : nominal };
}

/** FLOP-predicted fraction saved (per sample) for effective ks; cross-checked with core's predictedTimeSaved. */
export function predictedSaved(core, context, sampler, c, fill) {
  const { effective } = scheduleKs(core, context, sampler, c, fill);
  const table = fill === 'interpolate' ? context.sideTable : context.table;
  const full = effective.length * core.flopsAtDepth(table, 0);
  const scheduled = effective.reduce((sum, k) => sum + core.flopsAtDepth(table, k, { fill }), 0);
  const fraction = 1 - scheduled / full;
  if (fill !== 'cache' && c > 0) {
    const fromCore = core.predictedTimeSaved(specForFill(context, fill), core.powerSchedule({ c }), context.timesteps[sampler], { fill }).fractionSaved;
    if (Math.abs(fromCore - fraction) > 1e-12) {
      throw new Error(`predicted time saved disagrees with core's predictedTimeSaved for ${context.name} ${fill} c=${c} ${sampler}: ${fraction} vs ${fromCore}`);
    }
  }
  return { fraction, ks: effective };
}

function histogram(ks, levels) {
  const counts = new Array(levels).fill(0);
  for (const k of ks) counts[k]++;
  return counts;
}

function cellsOf(doc, kind) {
  return Object.values(doc.cells).filter((cell) => cell.kind === kind);
}

const round = (value, digits = 4) => (value === null || value === undefined || !Number.isFinite(value) ? null : Number(value.toFixed(digits)));

/** Everything the report shows, from the raw cells. */
export function deriveSpeedTables(doc, { core, samplers }) {
  const contexts = new Map();
  const contextOf = (model) => {
    if (!contexts.has(model)) contexts.set(model, modelContext(core, samplers, model));
    return contexts.get(model);
  };
  const predictCells = cellsOf(doc, 'predict');
  const sampleCells = cellsOf(doc, 'sample');
  const cs = [...new Set([0, ...doc.config.cs])].sort((a, b) => a - b);

  // Predicted saved per (model, fill, c, sampler).
  const predicted = [];
  const modelsSeen = [...new Set([...predictCells, ...sampleCells].map((cell) => cell.model))];
  const fillsSeen = [...new Set([...predictCells, ...sampleCells].map((cell) => cell.fill))];
  for (const model of modelsSeen) {
    const context = contextOf(model);
    for (const fill of fillsSeen) {
      for (const c of cs) {
        for (const sampler of samplerIds) {
          const { fraction, ks } = predictedSaved(core, context, sampler, c, fill);
          predicted.push({ model, fill, c, sampler, predictedSaved: round(fraction), kHistogram: histogram(ks, context.levels) });
        }
      }
    }
  }
  const predictedOf = (model, fill, c, sampler) => predicted.find((p) => p.model === model && p.fill === fill && p.c === c && p.sampler === sampler);

  // Per-k table.
  const perK = [];
  for (const cell of predictCells) {
    const context = contextOf(cell.model);
    const table = cell.fill === 'interpolate' ? context.sideTable : context.table;
    const full = cell.baseline?.ms ?? cell.ks[0].ms;
    for (const entry of cell.ks) {
      const flops = core.flopsAtDepth(table, entry.k, { fill: cell.fill }) * cell.batch;
      perK.push({
        model: cell.model,
        backend: cell.backend,
        batch: cell.batch,
        fill: cell.fill,
        k: entry.k,
        ms: entry.ms,
        runs: entry.runs,
        gflops: round(flops / (entry.ms / 1000) / 1e9, 2),
        speedup: round(full / entry.ms, 3),
        flopSpeedup: round(core.flopsAtDepth(table, 0) / core.flopsAtDepth(table, entry.k, { fill: cell.fill }), 3),
      });
    }
  }

  // Table 2: real DDIM-50 runs, then per-step-cost equivalents for DDIM-50 and DDPM-1000.
  const table2 = [];
  for (const cell of sampleCells) {
    const t0 = cell.schedules.find((s) => s.c === 0)?.ms;
    for (const schedule of cell.schedules) {
      if (schedule.c === 0 || t0 === undefined) continue;
      const p = predictedOf(cell.model, cell.fill, schedule.c, 'ddim50');
      const measured = 1 - schedule.ms / t0;
      table2.push({
        model: cell.model,
        backend: cell.backend,
        batch: cell.batch,
        fill: cell.fill,
        c: schedule.c,
        sampler: 'ddim50',
        source: 'sample',
        runMs: schedule.ms,
        fullMs: t0,
        measuredSaved: round(measured),
        predictedSaved: p.predictedSaved,
        ratio: p.predictedSaved > 0 ? round(measured / p.predictedSaved, 3) : null,
      });
    }
  }
  for (const cell of predictCells) {
    const context = contextOf(cell.model);
    const msOf = new Map(cell.ks.map((entry) => [entry.k, entry.ms]));
    if (msOf.size !== context.levels) continue; // a cell timed on a subset of k cannot price a schedule
    const full = cell.baseline?.ms ?? msOf.get(0);
    for (const sampler of samplerIds) {
      const n = context.timesteps[sampler].length;
      for (const c of cs) {
        if (c === 0) continue;
        const { effective } = scheduleKs(core, context, sampler, c, cell.fill);
        const runMs = effective.reduce((sum, k) => sum + msOf.get(k), 0);
        const measured = 1 - runMs / (n * full);
        const p = predictedOf(cell.model, cell.fill, c, sampler);
        table2.push({
          model: cell.model,
          backend: cell.backend,
          batch: cell.batch,
          fill: cell.fill,
          c,
          sampler,
          source: 'per-k',
          runMs: round(runMs, 1),
          fullMs: round(n * full, 1),
          measuredSaved: round(measured),
          predictedSaved: p.predictedSaved,
          ratio: p.predictedSaved > 0 ? round(measured / p.predictedSaved, 3) : null,
        });
      }
    }
  }

  // Throughput against the PyTorch peer: t_torch / t_backend for the same run (> 1: levelskip is faster).
  const throughputVsTorch = [];
  const runTime = (model, backend, batch, fill, c, source, sampler) => {
    if (source === 'sample') {
      const cell = sampleCells.find((s) => s.model === model && s.backend === backend && s.batch === batch && s.fill === fill);
      return cell?.schedules.find((s) => s.c === c)?.ms;
    }
    if (c === 0) {
      const cell = predictCells.find((s) => s.model === model && s.backend === backend && s.batch === batch && s.fill === fill);
      const full = cell?.baseline?.ms ?? cell?.ks.find((e) => e.k === 0)?.ms;
      return full === undefined ? undefined : full * contextOf(model).timesteps[sampler].length;
    }
    return table2.find((r) => r.model === model && r.backend === backend && r.batch === batch && r.fill === fill && r.c === c && r.source === 'per-k' && r.sampler === sampler)?.runMs;
  };
  const groups = new Set([...predictCells, ...sampleCells].filter((cell) => cell.backend !== 'torch').map((cell) => `${cell.model}|${cell.backend}|${cell.batch}|${cell.fill}`));
  for (const group of groups) {
    const [model, backend, batchText, fill] = group.split('|');
    const batch = Number(batchText);
    for (const c of cs) {
      for (const [source, sampler] of [
        ['sample', 'ddim50'],
        ['per-k', 'ddim50'],
      ]) {
        const mine = runTime(model, backend, batch, fill, c, source, sampler);
        const torch = runTime(model, 'torch', batch, fill, c, source, sampler);
        if (mine === undefined || torch === undefined) continue;
        throughputVsTorch.push({ model, backend, batch, fill, c, sampler, source, backendMs: round(mine, 1), torchMs: round(torch, 1), ratio: round(torch / mine, 3) });
      }
    }
  }

  // Achieved GFLOP/s (zero fill, full depth and deepest skip) against the runtime's peak.
  const peaks = new Map(cellsOf(doc, 'peak').map((cell) => [cell.backend, cell]));
  const gflops = [];
  for (const cell of predictCells.filter((c) => c.fill === 'zero')) {
    const context = contextOf(cell.model);
    const at = (k) => {
      const entry = cell.ks.find((e) => e.k === k);
      return entry === undefined ? null : round((core.flopsAtDepth(context.table, k) * cell.batch) / (entry.ms / 1000) / 1e9, 2);
    };
    const peak = peaks.get(cell.backend);
    const full = at(0);
    gflops.push({
      model: cell.model,
      backend: cell.backend,
      batch: cell.batch,
      threads: cell.threads,
      gflopsFull: full,
      gflopsDeepestSkip: at(context.levels - 1),
      peakConvGflops: peak?.conv.gflops ?? null,
      peakMatmulGflops: peak?.matmul.gflops ?? null,
      fractionOfConvPeak: peak && full !== null ? round(full / peak.conv.gflops, 3) : null,
    });
  }

  const parity = cellsOf(doc, 'parity').map((cell) => ({ model: cell.model, passed: cell.passed, maxAbsDiff: cell.maxAbsDiff, tolerance: cell.tolerance, cases: cell.cases.length }));
  return { predicted, perK, table2, throughputVsTorch, gflops, parity };
}
