/**
 * The demo page: pick a shipped model, an engine and a skip schedule, sample, and compare the wall
 * time with a full-depth run on the same seed. `window.levelskipDemo` exposes the same run to
 * scripts (the browser test drives the page through it).
 */
import { loadPretrained, type LoadedPretrained } from '@levelskip/pretrained';
import { engineChoices, probeEngines, type EngineId, type EngineProbe } from './engines.js';
import { runDemo, timeDepths, type DemoResult, type DemoSettings, type DemoStep, type DepthTiming } from './run-demo.js';

/** The models the build copied beside the page (see scripts/build.mjs). */
declare const LEVELSKIP_MODELS: readonly string[];

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const models = new Map<string, Promise<LoadedPretrained>>();

function model(name: string): Promise<LoadedPretrained> {
  let loading = models.get(name);
  if (loading === undefined) {
    loading = loadPretrained(name, {
      baseUrl: new URL('models/', document.baseURI),
      onProgress: (p) => {
        if (p.file === 'model.safetensors' && p.total !== undefined) status(`Loading ${name}: ${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB`);
      },
    });
    loading.catch(() => models.delete(name));
    models.set(name, loading);
  }
  return loading;
}

function status(text: string, failed = false): void {
  const line = $('status');
  line.textContent = text;
  line.className = failed ? 'failed' : '';
}

/** k at each step as bars (full-depth run grey, skipping run green), 0 at the top: deeper = taller. */
function drawKChart(ks: readonly number[], total: number, levels: number): void {
  const svg = $<HTMLElement>('k-chart');
  const width = 400 / Math.max(1, total);
  const bars = ks
    .map((k, i) => {
      const height = ((levels - k) / levels) * 90;
      return `<rect x="${(i * width).toFixed(2)}" y="${(95 - height).toFixed(2)}" width="${Math.max(0.5, width - 0.5).toFixed(2)}" height="${height.toFixed(2)}" fill="${k === 0 ? '#8a8a8a' : '#2f9e56'}"><title>step ${i + 1}: k = ${k}</title></rect>`;
    })
    .join('');
  svg.innerHTML = `${bars}<text x="2" y="10" font-size="9" fill="#555">levels computed per step (N − k); green: k &gt; 0</text>`;
}

function drawGrid(title: string, pixels: Uint8Array, size: number, count: number): HTMLElement {
  const columns = Math.min(count, 8);
  const rows = Math.ceil(count / columns);
  const canvas = document.createElement('canvas');
  canvas.width = columns * size;
  canvas.height = rows * size;
  canvas.style.width = `${columns * size * 2}px`;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(canvas.width, canvas.height);
  for (let n = 0; n < count; n++) {
    const ox = (n % columns) * size;
    const oy = Math.floor(n / columns) * size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = pixels[n * size * size + y * size + x]!;
        const o = ((oy + y) * canvas.width + ox + x) * 4;
        image.data[o] = v;
        image.data[o + 1] = v;
        image.data[o + 2] = v;
        image.data[o + 3] = 255;
      }
    }
  }
  context.putImageData(image, 0, 0);
  const figure = document.createElement('figure');
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(canvas, caption);
  return figure;
}

const percent = (x: number | undefined): string => (x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);
const ms = (x: number | undefined): string => (x === undefined ? '—' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);

function settingsFromForm(): DemoSettings & { model: string; engine: EngineId } {
  const mode = (document.querySelector('input[name="mode"]:checked') as HTMLInputElement).value;
  const number = (id: string): number => Number($<HTMLInputElement>(id).value);
  return {
    model: $<HTMLSelectElement>('model').value,
    engine: $<HTMLSelectElement>('engine').value as EngineId,
    c: mode === 'power' ? number('c') : 0,
    ...(mode === 'cache' ? { cacheInterval: number('cache') } : {}),
    fill: $<HTMLSelectElement>('fill').value,
    steps: number('steps'),
    eta: number('eta'),
    seed: number('seed'),
    count: number('count'),
    compareFullDepth: $<HTMLInputElement>('compare').checked && mode !== 'full',
  };
}

/** Runs one configuration and shows it; also the entry point of `window.levelskipDemo.run`. */
async function run(settings: DemoSettings & { model: string; engine: EngineId }): Promise<DemoResult> {
  const choice = engineChoices.find((e) => e.id === settings.engine);
  if (choice === undefined) throw new Error(`unknown engine ${settings.engine}`);
  const loaded = await model(settings.model);
  status(`Starting ${choice.label}…`);
  const backend = await choice.create();
  const levels = loaded.spec.channelMults.length;
  const ks: number[] = [];
  let current: DemoStep['run'] | undefined;
  try {
    status(`Warming up ${choice.label} (compiling the graphs of every depth the run uses)…`);
    const result = await runDemo(backend, loaded, settings, {
      onStep: (step) => {
        if (step.run !== current) {
          current = step.run;
          ks.length = 0;
          status(step.run === 'full' ? 'Sampling at full depth (the baseline)…' : 'Sampling with level skipping…');
        }
        ks.push(step.k);
        $<HTMLProgressElement>('progress').value = step.step / step.total;
        $('step-line').textContent = `${step.run === 'full' ? 'full depth' : 'skipping'}: step ${step.step} of ${step.total}, k = ${step.k} (${levels - step.k} of ${levels} levels computed)`;
        drawKChart(ks, step.total, levels);
      },
    });
    const grids = $('grids');
    grids.replaceChildren(
      ...(result.full === undefined ? [] : [drawGrid(`full depth · ${ms(result.full.wallMs)}`, result.full.pixels, result.full.size, settings.count)]),
      drawGrid(`${result.label} · ${ms(result.skip.wallMs)}`, result.skip.pixels, result.skip.size, settings.count),
    );
    drawKChart(result.skip.ks, result.skip.ks.length, levels);
    const row = document.createElement('tr');
    for (const cell of [settings.model, choice.label, result.label, String(settings.steps), ms(result.skip.wallMs), ms(result.full?.wallMs), percent(result.timeSavedMeasured), percent(result.timeSavedPredicted)]) {
      const td = document.createElement('td');
      td.textContent = cell;
      row.append(td);
    }
    row.children[6]!.className = 'saved';
    $('results').querySelector('tbody')!.prepend(row);
    status(
      result.timeSavedMeasured === undefined
        ? `Done: ${result.label} in ${ms(result.skip.wallMs)}.`
        : `Done: ${result.label} took ${ms(result.skip.wallMs)} against ${ms(result.full?.wallMs)} at full depth: time saved ${percent(result.timeSavedMeasured)} measured, ${percent(result.timeSavedPredicted)} predicted from FLOPs.`,
    );
    return result;
  } finally {
    backend.dispose();
  }
}

/** Per-depth predict() times of one engine (`window.levelskipDemo.timeDepths`; scripts/bench-page.mjs uses it). */
async function timeEngine(engine: EngineId, modelName: string, batch: number, repeats?: number): Promise<DepthTiming & { threads?: number }> {
  const choice = engineChoices.find((e) => e.id === engine);
  if (choice === undefined) throw new Error(`unknown engine ${engine}`);
  const backend = await choice.create();
  try {
    const threads = (backend as { threads?: number; intraOpNumThreads?: number }).threads ?? (backend as { intraOpNumThreads?: number }).intraOpNumThreads;
    return { ...(await timeDepths(backend, await model(modelName), { batch, ...(repeats === undefined ? {} : { repeats }) })), ...(threads === undefined ? {} : { threads }) };
  } finally {
    backend.dispose();
  }
}

async function start(): Promise<void> {
  const modelSelect = $<HTMLSelectElement>('model');
  for (const name of LEVELSKIP_MODELS) modelSelect.add(new Option(name, name, name === 'mnist-c2-distill', name === 'mnist-c2-distill'));
  $<HTMLInputElement>('c').addEventListener('input', () => ($('c-value').textContent = $<HTMLInputElement>('c').value));

  const probes = await probeEngines();
  const engineSelect = $<HTMLSelectElement>('engine');
  for (const probe of probes.filter((p) => p.ok)) engineSelect.add(new Option(probe.threads === undefined ? probe.label : `${probe.label} (${probe.threads} threads)`, probe.id));
  $('engine-list').replaceChildren(
    ...probes.map((p: EngineProbe) => {
      const item = document.createElement('li');
      item.textContent = p.ok ? `${p.label}: starts${p.threads === undefined ? '' : `, ${p.threads} thread${p.threads === 1 ? '' : 's'}`}` : `${p.label}: not available — ${p.reason}`;
      if (!p.ok) item.className = 'failed';
      return item;
    }),
  );
  const started = probes.filter((p) => p.ok).length;
  status(started === 0 ? 'No engine started in this browser (details below).' : `${started} of ${probes.length} engines start here (${self.crossOriginIsolated ? 'cross-origin isolated: wasm may use threads' : 'not cross-origin isolated: wasm runs on one thread'}). Pick a configuration and sample.`, started === 0);
  $<HTMLButtonElement>('run').disabled = started === 0;
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = $<HTMLButtonElement>('run');
    button.disabled = true;
    run(settingsFromForm())
      .catch((error: unknown) => status(error instanceof Error ? error.message : String(error), true))
      .finally(() => (button.disabled = false));
  });
  (window as unknown as { levelskipDemo: object }).levelskipDemo = { run, timeDepths: timeEngine, probes, ready: true };
}

start().catch((error: unknown) => status(`The page failed to start: ${error instanceof Error ? error.message : String(error)}`, true));
