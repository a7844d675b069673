// @ts-check
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
 * - Stage at each step (multi-decoder U-Nets, spec.decoderStages): core's stageForTime(arch, t),
 *   the decoder whose [tStart, tEnd) holds t, as predict() picks it. Single-decoder: stage 0.
 * - The cache fill: a step whose cut level holds no cached features yet runs at full depth
 *   (with c > 0, the first step), so its effective k list differs from the schedule's. The cache
 *   is kept per decoder stage (core's FeatureCache), so the first skipping step of each new
 *   stage runs at full depth too.
 * - Predicted saved = 1 − Σ_i FLOPs(k_i, s_i) / Σ_i FLOPs(0, s_i) with core's flopTable
 *   (interpolate counts its side paths; s_i the stage of step i). This is core's
 *   `predictedTimeSaved`, and the two FLOP sums are checked to agree. The cache fill's effective
 *   depths are core's `cacheDepths` in both (`effectiveKs` below), the one statement of the rule.
 * - Measured saved, real runs = 1 − t(c) / t(0), medians of DDIM-50 sample() runs timed in
 *   alternating order within one cell; t(0) is the full network without fill or feature cache.
 * - Measured saved, per-step-cost equivalent = 1 − Σ_i ms(s_i, k_i) / Σ_i ms_full(s_i), ms from
 *   the per-k predict() medians, timed per stage for a multi-decoder U-Net (ms(s, 0) with cache
 *   writes for the cache fill, ms_full(s) without).
 * - Ratio = measured / predicted (1 = the backend turns every skipped FLOP into saved time).
 */

/** @typedef {import('./lib/types.js').CorePackage} CorePackage */
/** @typedef {import('./lib/types.js').SamplersPackage} SamplersPackage */
/** @typedef {import('./lib/types.js').ModelContext} ModelContext */
/** @typedef {import('./lib/types.js').SpeedDocument} SpeedDocument */
/** @typedef {import('./lib/types.js').SpeedSampler} SpeedSampler */
/** @typedef {import('./lib/types.js').PredictCell} PredictCell */
/** @typedef {import('./lib/types.js').SampleCell} SampleCell */

/** The samplers the derived tables price: real DDIM-50 runs, and DDPM-1000 from per-k timings. */
export const samplerIds = /** @type {const} */ (['ddim50', 'ddpm1000']);

/**
 * The effective depth of each step with `fill`: core's `cacheDepths` (the cache fall-back rule is
 * written once, in core; only fills that plan their own depths, `cache` and `cache:m`, change the
 * schedule's ks). `stages[i]` is step i's decoder stage (omitted: a single decoder); features are
 * cached per stage.
 *
 * @param {CorePackage} core
 * @param {readonly number[]} ks the schedule's k per step
 * @param {string} fill the fill's written form (`zero`, `cache`, `cache:3`, …)
 * @param {readonly number[]} [stages] each step's decoder stage
 * @returns {number[]}
 */
export function effectiveKs(core, ks, fill, stages = undefined) {
  return core.cacheDepths(ks, core.parseFill(fill), stages);
}

/**
 * The timestep per-k predict() timings of decoder stage `d` run at: the middle of the stage's
 * t-interval (for a single decoder, [0, 1): T/2 = 500). Checked to select that stage, since
 * predict() picks the decoder from the timestep.
 *
 * @param {CorePackage} core
 * @param {import('./lib/types.js').Architecture} arch
 * @param {import('./lib/types.js').Architecture['decoders'][number]} d the stage's decoder
 * @param {number} T the diffusion steps the model was trained with
 * @returns {number}
 */
function stageTimestep(core, arch, d, T) {
  const timestep = Math.min(T - 1, Math.floor((T * (d.tStart + d.tEnd)) / 2));
  if (core.stageForTime(arch, timestep / T) !== d.stage) {
    throw new Error(`timestep ${timestep} does not select decoder stage ${d.stage} (t ∈ [${d.tStart}, ${d.tEnd})); the stage interval is narrower than one timestep`);
  }
  return timestep;
}

/**
 * Specs, FLOP tables, decoder stages and step lists of the presets; everything predicted depends only on these.
 *
 * @param {CorePackage} core
 * @param {SamplersPackage} samplers
 * @param {string} name one of core's presets
 * @returns {ModelContext}
 */
export function modelContext(core, samplers, name) {
  // Named by a flag or a results file: looked up by name, checked below.
  const preset = /** @type {Record<string, object | undefined>} */ (core.presets)[name];
  if (preset === undefined) throw new Error(`unknown preset ${name}; core's presets are ${Object.keys(core.presets).join(', ')}`);
  const spec = core.parseUNetSpec(preset);
  const sideSpec = core.parseUNetSpec({ ...preset, sidePaths: true });
  const arch = core.describeArchitecture(spec);
  const T = spec.trainTimesteps;
  const stages = arch.decoders.map((d) => ({ stage: d.stage, tStart: d.tStart, tEnd: d.tEnd, timestep: stageTimestep(core, arch, d, T) }));
  const timesteps = { ddim50: samplers.ddim({ steps: 50 }).timesteps, ddpm1000: samplers.ddpm().timesteps };
  return {
    name,
    spec,
    sideSpec,
    arch,
    block: spec.block,
    levels: spec.channelMults.length,
    stages,
    multiStage: stages.length > 1,
    table: core.flopTable(spec),
    sideTable: core.flopTable(sideSpec),
    timesteps,
  };
}

/**
 * Spec of the model a fill runs on: interpolate needs side paths.
 *
 * @param {ModelContext} context
 * @param {string} fill
 */
export function specForFill(context, fill) {
  return fill === 'interpolate' ? context.sideSpec : context.spec;
}

/**
 * The decoder stage of every step of `sampler` (all 0 for a single decoder).
 *
 * @param {CorePackage} core
 * @param {ModelContext} context
 * @param {SpeedSampler} sampler
 * @returns {number[]}
 */
export function scheduleStages(core, context, sampler) {
  const T = context.spec.trainTimesteps;
  return context.timesteps[sampler].map((t) => core.stageForTime(context.arch, t / T));
}

/**
 * The k of every step of `sampler` under powerSchedule(c), nominal and effective for `fill`, and each step's stage.
 *
 * @param {CorePackage} core
 * @param {ModelContext} context
 * @param {SpeedSampler} sampler
 * @param {number} c curvature; 0: the full network at every step
 * @param {string} fill
 * @returns {import('./lib/types.js').ScheduleKs}
 */
export function scheduleKs(core, context, sampler, c, fill) {
  const T = context.spec.trainTimesteps;
  const steps = context.timesteps[sampler];
  const schedule = c === 0 ? null : core.powerSchedule({ c });
  const nominal = steps.map((t) => (schedule === null ? 0 : schedule.kAt(t / T, context.levels)));
  const stages = scheduleStages(core, context, sampler);
  return { nominal, effective: effectiveKs(core, nominal, fill, stages), stages };
}

/**
 * FLOP-predicted fraction saved (per sample) for effective ks, each step priced at its stage; cross-checked with core's predictedTimeSaved.
 *
 * @param {CorePackage} core
 * @param {ModelContext} context
 * @param {SpeedSampler} sampler
 * @param {number} c
 * @param {string} fill
 * @returns {{ fraction: number, ks: number[], stages: number[] }}
 */
export function predictedSaved(core, context, sampler, c, fill) {
  const { effective, stages } = scheduleKs(core, context, sampler, c, fill);
  const table = fill === 'interpolate' ? context.sideTable : context.table;
  let full = 0;
  let scheduled = 0;
  effective.forEach((k, i) => {
    full += core.flopsAtDepth(table, 0, { stage: stages[i] });
    scheduled += core.flopsAtDepth(table, k, { fill, stage: stages[i] });
  });
  const fraction = 1 - scheduled / full;
  if (c > 0) {
    const fromCore = core.predictedTimeSaved(specForFill(context, fill), core.powerSchedule({ c }), context.timesteps[sampler], { fill }).fractionSaved;
    if (Math.abs(fromCore - fraction) > 1e-12) {
      throw new Error(`predicted time saved disagrees with core's predictedTimeSaved for ${context.name} ${fill} c=${c} ${sampler}: ${fraction} vs ${fromCore}`);
    }
  }
  return { fraction, ks: effective, stages };
}

/**
 * Steps at each value 0 .. levels-1.
 *
 * @param {readonly number[]} ks
 * @param {number} levels
 * @returns {number[]}
 */
function histogram(ks, levels) {
  const counts = new Array(levels).fill(0);
  for (const k of ks) counts[k]++;
  return counts;
}

/**
 * The cells of one kind.
 *
 * @template {import('./lib/types.js').SpeedCell['kind']} Kind
 * @param {SpeedDocument} doc
 * @param {Kind} kind
 * @returns {Array<Extract<import('./lib/types.js').SpeedCell, { kind: Kind }>>}
 */
function cellsOf(doc, kind) {
  return Object.values(doc.cells).filter(/** @returns {cell is Extract<import('./lib/types.js').SpeedCell, { kind: Kind }>} */ (cell) => cell.kind === kind);
}

/** @type {(value: number | null | undefined, digits?: number) => number | null} */
const round = (value, digits = 4) => (value === null || value === undefined || !Number.isFinite(value) ? null : Number(value.toFixed(digits)));

/**
 * Decoder stage of a predict() ks entry; single-decoder cells (and files written before stages) have none: stage 0.
 *
 * @type {(entry: { stage?: number }) => number}
 */
const stageOf = (entry) => entry.stage ?? 0;
/** @type {(stage: number, k: number) => string} */
const stageK = (stage, k) => `${stage}|${k}`;

/**
 * Median ms of a predict cell per (stage, k).
 *
 * @param {PredictCell} cell
 * @returns {Map<string, number>}
 */
function msByStageAndK(cell) {
  return new Map(cell.ks.map((entry) => [stageK(stageOf(entry), entry.k), entry.ms]));
}

/**
 * Median ms of the full network per stage: the cache fill's no-cache baseline(s), otherwise k = 0.
 *
 * @param {PredictCell} cell
 * @returns {Map<number, number>}
 */
function fullMsByStage(cell) {
  /** @type {Map<number, number>} */
  const full = new Map();
  for (const entry of cell.ks) if (entry.k === 0) full.set(stageOf(entry), entry.ms);
  if (cell.baseline) full.set(0, cell.baseline.ms);
  for (const baseline of cell.baselines ?? []) full.set(baseline.stage, baseline.ms);
  return full;
}

/**
 * The timestep a predict cell timed `stage` at.
 *
 * @param {PredictCell} cell
 * @param {number} stage
 * @returns {number | null}
 */
function timestepOf(cell, stage) {
  return cell.stages?.find((s) => s.stage === stage)?.timestep ?? cell.timestep ?? null;
}

/**
 * The peaks (`{ conv, matmul }` GFLOP/s) of `backend` that hold for cells of session `id`: those the
 * session measured (`session.peaks`), else those of the session its `peaksFrom` names (set by hand
 * for sessions from before per-session peaks, when known to have run on the same machine), else
 * the `peak|<backend>` cell when that session measured it. Null when none did.
 *
 * @param {Pick<SpeedDocument, 'sessions' | 'cells'>} doc
 * @param {number} id the session
 * @param {string} backend
 * @returns {import('./lib/types.js').PeakGflops | null}
 */
export function sessionPeak(doc, id, backend) {
  /** @type {(sessionId: number) => import('./lib/types.js').PeakGflops | null} */
  const measuredIn = (sessionId) => {
    const own = doc.sessions.find((s) => s.id === sessionId)?.peaks?.[backend];
    if (own) return own;
    const cell = /** @type {import('./lib/types.js').PeakCell | undefined} */ (doc.cells[`peak|${backend}`]);
    return cell?.session === sessionId ? { conv: cell.conv.gflops, matmul: cell.matmul.gflops } : null;
  };
  const from = doc.sessions.find((s) => s.id === id)?.peaksFrom;
  return measuredIn(id) ?? (from === undefined ? null : measuredIn(from));
}

/**
 * What the parts of deriveSpeedTables share: core, each model's context (built once per model) and
 * the curvatures of the file, c = 0 included.
 *
 * @typedef {object} Derivation
 * @property {CorePackage} core
 * @property {(model: string) => ModelContext} contextOf
 * @property {number[]} cs
 */

/**
 * The models' shapes the report explains: block kind, levels, decoder stages, FLOPs at full depth.
 *
 * @param {Derivation} derivation
 * @param {string[]} modelsSeen
 * @returns {import('./lib/types.js').ModelRow[]}
 */
function modelRows({ core, contextOf }, modelsSeen) {
  return modelsSeen.map((model) => {
    const context = contextOf(model);
    return {
      model,
      block: context.block,
      levels: context.levels,
      stages: context.stages.map((s) => ({ ...s, gflopsFull: round(core.flopsAtDepth(context.table, 0, { stage: s.stage }) / 1e9, 4) })),
    };
  });
}

/**
 * Predicted saved per (model, fill, c, sampler).
 *
 * @param {Derivation} derivation
 * @param {string[]} modelsSeen
 * @param {string[]} fillsSeen
 * @returns {import('./lib/types.js').PredictedRow[]}
 */
function predictedRows({ core, contextOf, cs }, modelsSeen, fillsSeen) {
  /** @type {import('./lib/types.js').PredictedRow[]} */
  const predicted = [];
  for (const model of modelsSeen) {
    const context = contextOf(model);
    for (const fill of fillsSeen) {
      for (const c of cs) {
        for (const sampler of samplerIds) {
          const { fraction, ks, stages } = predictedSaved(core, context, sampler, c, fill);
          predicted.push({
            model,
            fill,
            c,
            sampler,
            predictedSaved: round(fraction),
            kHistogram: histogram(ks, context.levels),
            ...(context.multiStage ? { stageHistogram: histogram(stages, context.stages.length) } : {}),
          });
        }
      }
    }
  }
  return predicted;
}

/**
 * Per-k table (per stage for multi-decoder U-Nets).
 *
 * @param {Derivation} derivation
 * @param {PredictCell[]} predictCells
 * @returns {import('./lib/types.js').PerKRow[]}
 */
function perKRows({ core, contextOf }, predictCells) {
  /** @type {import('./lib/types.js').PerKRow[]} */
  const perK = [];
  for (const cell of predictCells) {
    const context = contextOf(cell.model);
    const table = cell.fill === 'interpolate' ? context.sideTable : context.table;
    const fullMs = fullMsByStage(cell);
    for (const entry of cell.ks) {
      const stage = stageOf(entry);
      const flopsPerSample = core.flopsAtDepth(table, entry.k, { fill: cell.fill, stage });
      const full = fullMs.get(stage);
      perK.push({
        model: cell.model,
        backend: cell.backend,
        batch: cell.batch,
        fill: cell.fill,
        stage,
        timestep: timestepOf(cell, stage),
        k: entry.k,
        ms: entry.ms,
        runs: entry.runs,
        gflops: round((flopsPerSample * cell.batch) / (entry.ms / 1000) / 1e9, 2),
        speedup: full !== undefined ? round(full / entry.ms, 3) : null,
        flopSpeedup: round(core.flopsAtDepth(table, 0, { stage }) / flopsPerSample, 3),
      });
    }
  }
  return perK;
}

/**
 * Σ over the sampler's steps of the full network's per-stage median: the c = 0 run priced from
 * per-k timings (undefined when a stage the sampler visits has no full-network timing).
 *
 * @param {CorePackage} core
 * @param {PredictCell} cell
 * @param {ModelContext} context
 * @param {SpeedSampler} sampler
 * @returns {number | undefined}
 */
function fullRunMs(core, cell, context, sampler) {
  const fullMs = fullMsByStage(cell);
  const stages = scheduleStages(core, context, sampler);
  return stages.every((s) => fullMs.has(s)) ? stages.reduce((sum, s) => sum + /** @type {number} */ (fullMs.get(s)), 0) : undefined;
}

/**
 * One Table 2 row: measured against predicted saving.
 *
 * @param {SampleCell | PredictCell} cell
 * @param {{ c: number, sampler: SpeedSampler, source: 'sample' | 'per-k', runMs: number | null, fullMs: number | null, measured: number }} figures
 * @param {import('./lib/types.js').PredictedRow} p the prediction for the same model, fill, c and sampler
 * @returns {import('./lib/types.js').Table2Row}
 */
function table2Row(cell, { c, sampler, source, runMs, fullMs, measured }, p) {
  return {
    model: cell.model,
    backend: cell.backend,
    batch: cell.batch,
    fill: cell.fill,
    c,
    sampler,
    source,
    runMs,
    fullMs,
    measuredSaved: round(measured),
    predictedSaved: p.predictedSaved,
    ratio: /** @type {number} */ (p.predictedSaved) > 0 ? round(measured / /** @type {number} */ (p.predictedSaved), 3) : null,
  };
}

/**
 * Table 2 from real DDIM-50 runs: each c against the same cell's c = 0 run.
 *
 * @param {SampleCell[]} sampleCells
 * @param {(model: string, fill: string, c: number, sampler: SpeedSampler) => import('./lib/types.js').PredictedRow} predictedOf
 * @returns {import('./lib/types.js').Table2Row[]}
 */
function table2FromRuns(sampleCells, predictedOf) {
  /** @type {import('./lib/types.js').Table2Row[]} */
  const rows = [];
  for (const cell of sampleCells) {
    const t0 = cell.schedules.find((s) => s.c === 0)?.ms;
    for (const schedule of cell.schedules) {
      if (schedule.c === 0 || t0 === undefined) continue;
      const p = predictedOf(cell.model, cell.fill, schedule.c, 'ddim50');
      rows.push(table2Row(cell, { c: schedule.c, sampler: 'ddim50', source: 'sample', runMs: schedule.ms, fullMs: t0, measured: 1 - schedule.ms / t0 }, p));
    }
  }
  return rows;
}

/**
 * Table 2 as per-step-cost equivalents for DDIM-50 and DDPM-1000: Σ per-k predict() medians at
 * each step's (stage, k), against Σ of the full network's.
 *
 * @param {Derivation} derivation
 * @param {PredictCell[]} predictCells
 * @param {(model: string, fill: string, c: number, sampler: SpeedSampler) => import('./lib/types.js').PredictedRow} predictedOf
 * @returns {import('./lib/types.js').Table2Row[]}
 */
function table2FromPerK({ core, contextOf, cs }, predictCells, predictedOf) {
  /** @type {import('./lib/types.js').Table2Row[]} */
  const rows = [];
  for (const cell of predictCells) {
    const context = contextOf(cell.model);
    const msOf = msByStageAndK(cell);
    // A cell timed on a subset of (stage, k) cannot price a schedule.
    const complete = context.stages.every(({ stage }) => Array.from({ length: context.levels }, (_, k) => k).every((k) => msOf.has(stageK(stage, k))));
    if (!complete) continue;
    for (const sampler of samplerIds) {
      // Undefined when a stage has no full-network timing: the figures below are then NaN, which round() stores as null.
      const fullMs = /** @type {number} */ (fullRunMs(core, cell, context, sampler));
      for (const c of cs) {
        if (c === 0) continue;
        const { effective, stages } = scheduleKs(core, context, sampler, c, cell.fill);
        const runMs = effective.reduce((sum, k, i) => sum + /** @type {number} */ (msOf.get(stageK(stages[i], k))), 0);
        const p = predictedOf(cell.model, cell.fill, c, sampler);
        rows.push(table2Row(cell, { c, sampler, source: 'per-k', runMs: round(runMs, 1), fullMs: round(fullMs, 1), measured: 1 - runMs / fullMs }, p));
      }
    }
  }
  return rows;
}

/**
 * Throughput against the PyTorch peer: t_torch / t_backend for the same run (> 1: levelskip is
 * faster), from real runs and from per-k equivalents.
 *
 * @param {Derivation} derivation
 * @param {PredictCell[]} predictCells
 * @param {SampleCell[]} sampleCells
 * @param {import('./lib/types.js').Table2Row[]} table2
 * @returns {import('./lib/types.js').ThroughputRow[]}
 */
function throughputRows({ core, contextOf, cs }, predictCells, sampleCells, table2) {
  /** @type {(model: string, backend: string, batch: number, fill: string, c: number, source: 'sample' | 'per-k', sampler: SpeedSampler) => number | null | undefined} */
  const runTime = (model, backend, batch, fill, c, source, sampler) => {
    if (source === 'sample') {
      const cell = sampleCells.find((s) => s.model === model && s.backend === backend && s.batch === batch && s.fill === fill);
      return cell?.schedules.find((s) => s.c === c)?.ms;
    }
    if (c === 0) {
      const cell = predictCells.find((s) => s.model === model && s.backend === backend && s.batch === batch && s.fill === fill);
      return cell === undefined ? undefined : fullRunMs(core, cell, contextOf(model), sampler);
    }
    return table2.find((r) => r.model === model && r.backend === backend && r.batch === batch && r.fill === fill && r.c === c && r.source === 'per-k' && r.sampler === sampler)?.runMs;
  };
  /** @type {import('./lib/types.js').ThroughputRow[]} */
  const rows = [];
  const groups = new Set([...predictCells, ...sampleCells].filter((cell) => cell.backend !== 'torch').map((cell) => `${cell.model}|${cell.backend}|${cell.batch}|${cell.fill}`));
  for (const group of groups) {
    const [model, backend, batchText, fill] = group.split('|');
    const batch = Number(batchText);
    for (const c of cs) {
      for (const [source, sampler] of /** @type {const} */ ([
        ['sample', 'ddim50'],
        ['per-k', 'ddim50'],
      ])) {
        const mine = runTime(model, backend, batch, fill, c, source, sampler);
        const torch = runTime(model, 'torch', batch, fill, c, source, sampler);
        if (mine === undefined || torch === undefined) continue;
        // A per-k runMs is null where its cell's full network was not timed: the figures are then
        // not finite, which round() stores as null.
        const [mineMs, torchMs] = /** @type {[number, number]} */ ([mine, torch]);
        rows.push({ model, backend, batch, fill, c, sampler, source, backendMs: round(mineMs, 1), torchMs: round(torchMs, 1), ratio: round(torchMs / mineMs, 3) });
      }
    }
  }
  return rows;
}

/**
 * Achieved GFLOP/s (zero fill, full depth and deepest skip; per decoder stage) against the
 * runtime's peak as measured in the same session (sessionPeak): another session may have run on a
 * faster or slower machine of the same name.
 *
 * @param {Derivation} derivation
 * @param {SpeedDocument} doc
 * @param {PredictCell[]} predictCells
 * @returns {import('./lib/types.js').GflopsRow[]}
 */
function gflopsRows({ core, contextOf }, doc, predictCells) {
  /** @type {import('./lib/types.js').GflopsRow[]} */
  const gflops = [];
  for (const cell of predictCells.filter((c) => c.fill === 'zero')) {
    const context = contextOf(cell.model);
    const peak = sessionPeak(doc, cell.session, cell.backend);
    for (const { stage } of context.stages) {
      /** @type {(k: number) => number | null} */
      const at = (k) => {
        const entry = cell.ks.find((e) => e.k === k && stageOf(e) === stage);
        return entry === undefined ? null : round((core.flopsAtDepth(context.table, k, { stage }) * cell.batch) / (entry.ms / 1000) / 1e9, 2);
      };
      const full = at(0);
      const deepest = at(context.levels - 1);
      if (full === null && deepest === null) continue;
      gflops.push({
        model: cell.model,
        backend: cell.backend,
        batch: cell.batch,
        stage,
        threads: cell.threads,
        gflopsFull: full,
        gflopsDeepestSkip: deepest,
        peakConvGflops: peak?.conv ?? null,
        peakMatmulGflops: peak?.matmul ?? null,
        fractionOfConvPeak: peak && full !== null ? round(full / peak.conv, 3) : null,
      });
    }
  }
  return gflops;
}

/**
 * Everything the report shows, from the raw cells.
 *
 * @param {SpeedDocument} doc
 * @param {{ core: CorePackage, samplers: SamplersPackage }} packages
 * @returns {import('./lib/types.js').SpeedTables}
 */
export function deriveSpeedTables(doc, { core, samplers }) {
  /** @type {Map<string, ModelContext>} */
  const contexts = new Map();
  /** @type {(model: string) => ModelContext} */
  const contextOf = (model) => {
    let context = contexts.get(model);
    if (context === undefined) contexts.set(model, (context = modelContext(core, samplers, model)));
    return context;
  };
  const predictCells = cellsOf(doc, 'predict');
  const sampleCells = cellsOf(doc, 'sample');
  /** @type {Derivation} */
  const derivation = { core, contextOf, cs: [...new Set([0, ...doc.config.cs])].sort((a, b) => a - b) };
  const modelsSeen = [...new Set([...predictCells, ...sampleCells].map((cell) => cell.model))];
  const fillsSeen = [...new Set([...predictCells, ...sampleCells].map((cell) => cell.fill))];

  const models = modelRows(derivation, modelsSeen);
  const predicted = predictedRows(derivation, modelsSeen, fillsSeen);
  /** @type {(model: string, fill: string, c: number, sampler: SpeedSampler) => import('./lib/types.js').PredictedRow} */
  const predictedOf = (model, fill, c, sampler) =>
    /** @type {import('./lib/types.js').PredictedRow} */ (predicted.find((p) => p.model === model && p.fill === fill && p.c === c && p.sampler === sampler));
  const perK = perKRows(derivation, predictCells);
  // Table 2: real DDIM-50 runs, then per-step-cost equivalents for DDIM-50 and DDPM-1000.
  const table2 = [...table2FromRuns(sampleCells, predictedOf), ...table2FromPerK(derivation, predictCells, predictedOf)];
  const throughputVsTorch = throughputRows(derivation, predictCells, sampleCells, table2);
  const gflops = gflopsRows(derivation, doc, predictCells);
  const parity = cellsOf(doc, 'parity').map((cell) => ({ model: cell.model, passed: cell.passed, maxAbsDiff: cell.maxAbsDiff, tolerance: cell.tolerance, cases: cell.cases.length }));
  return { models, predicted, perK, table2, throughputVsTorch, gflops, parity };
}
