/**
 * Types shared by the benchmarks (bench/*.mjs are JavaScript checked with `// @ts-check`; these
 * are the typedefs their JSDoc names): the workspace packages as loadPackage returns them, timing
 * figures, the machine, the speed and quality suites' options, and their results files. The
 * results files' schemas are documented in prose at the top of bench/report.mjs (speed) and
 * bench/quality-report.mjs (quality); the interfaces here are the same fields.
 */

// ---------------------------------------------------------------------------------------------
// Workspace packages (bench/lib/workspace.mjs loadPackage), typed from their built declarations.

/** The built workspace packages by the name loadPackage takes. */
export interface WorkspacePackages {
  core: typeof import('@levelskip/core');
  samplers: typeof import('@levelskip/samplers');
  'backend-onnx': typeof import('@levelskip/backend-onnx');
  'backend-tfjs': typeof import('@levelskip/backend-tfjs');
  metrics: typeof import('@levelskip/metrics');
  pretrained: typeof import('@levelskip/pretrained');
  // The quality suite scores configurations with the CLI's own eval (planEval/runEval) and draws its
  // chart's PNG with the CLI's encoder and font: bench/ runs the CLI (loaded through
  // workspace.mjs), as a user does; no library package imports it.
  // eslint-disable-next-line levelskip/nothing-imports-cli
  cli: typeof import('@levelskip/cli');
}
export type WorkspacePackageName = keyof WorkspacePackages;
export type CorePackage = WorkspacePackages['core'];
export type SamplersPackage = WorkspacePackages['samplers'];
export type BackendOnnxPackage = WorkspacePackages['backend-onnx'];
export type BackendTfjsPackage = WorkspacePackages['backend-tfjs'];
export type PretrainedPackage = WorkspacePackages['pretrained'];
export type CliPackage = WorkspacePackages['cli'];

/** A backend the speed suite times: onnxruntime-node's, or tfjs's on one of its engines. */
export type OnnxBackendInstance = Awaited<ReturnType<BackendOnnxPackage['createOnnxBackend']>>;
export type TfjsBackendInstance = Awaited<ReturnType<BackendTfjsPackage['createTfjsBackend']>>;
export type SpeedBackendInstance = OnnxBackendInstance | TfjsBackendInstance;
/**
 * A denoiser of some backend, its tensor type unknown to the caller. Denoiser<T> is invariant in T
 * (T is both taken and returned), so "some T" is spelled `any`: the benchmarks only hand a
 * denoiser's tensors back to its own ops and predict().
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDenoiser = import('@levelskip/core').Denoiser<any>;
/** A backend of any runtime. */
export type AnyBackend = import('@levelskip/core').Backend<unknown>;
export type UNetSpec = import('@levelskip/core').UNetSpec;
export type Architecture = import('@levelskip/core').Architecture;
export type FlopTable = import('@levelskip/core').FlopTable;
export type NamedTensors = import('@levelskip/core').NamedTensors;
export type TrainingRecord = import('@levelskip/core').TrainingRecord;

// ---------------------------------------------------------------------------------------------
// Timing (bench/lib/timing.mjs) and the machine (bench/lib/machine.mjs).

/** A timed candidate: median and spread of its timed runs, in ms. */
export interface Timing {
  ms: number;
  runs: number;
  minMs: number;
  maxMs: number;
  timesMs: number[];
}

/** How timeInterleaved times its candidates. */
export interface TimingOptions {
  /** Untimed rounds first (default 1). */
  warmupRounds?: number;
  /** Timed rounds at least (default 5). */
  minRounds?: number;
  /** Keep going until the timed rounds took at least this per candidate (default 0). */
  minMs?: number;
  /** A round slower than this caps the rounds needed at 3 (default 10 000). */
  slowRoundMs?: number;
  /** Called after each timed round. */
  onRound?: (round: number, elapsedMs: number) => void;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  hostname: string;
}

/** CPU seconds used so far by the machine and by this process (bench/lib/machine.mjs cpuSample). */
export interface CpuSample {
  busySeconds: number | null;
  stealSeconds: number | null;
  ownSeconds: number;
  wallSeconds: number;
}

/** Other processes' and the hypervisor's CPU use over an interval, in cores. */
export interface OtherCpu {
  otherCores: number;
  stealCores: number;
}

export interface RuntimeVersions {
  node: string;
  onnxruntimeNode: string | null;
  tfjs: string | null;
  tfjsBackendWasm: string | null;
  tfjsNode: string | null;
}

export interface GitInfo {
  commit: string | null;
  dirty: boolean | null;
}

export interface DebianPackage {
  name: string;
  installed: boolean;
  version: string | null;
}

// ---------------------------------------------------------------------------------------------
// The speed suite: options (bench/lib/args.mjs), results file (bench/report.mjs documents it).

export type SpeedModel = 'mnistSmall' | 'ddpmCifar10' | 'mnistMultistage' | 'mnistOde2';
export type SpeedBackend = 'onnx' | 'tfjs-wasm' | 'tfjs-cpu' | 'tfjs-node' | 'torch';
/** Every built-in fill of core's registry (bench/lib/args.mjs `fills`). */
export type SpeedFill = (typeof import('@levelskip/core').builtinFillKinds)[number];
export type SpeedPart = 'peak' | 'parity' | 'predict' | 'sample';
export type SpeedSampler = 'ddim50' | 'ddpm1000';

/** Rounds and budgets of the speed suite's timing (quick: the fewest). */
export interface SpeedTiming {
  warmupRounds: number;
  minRounds: number;
  minMs: number;
  sampleRounds: number;
}

/** The speed suite's parsed flags. */
export interface SpeedOptions {
  models: SpeedModel[];
  backends: SpeedBackend[];
  batches: number[];
  fills: SpeedFill[];
  cs: number[];
  parts: SpeedPart[];
  sampleModels: SpeedModel[];
  threads: number;
  minMs: number;
  rounds: number;
  out: string;
  python: string;
  force: boolean;
  quick: boolean;
  help: boolean;
  timing: SpeedTiming;
}

/** One unit of work of a speed run, in run order (speed.mjs planCells). */
export type PlannedCell =
  | { kind: 'peak'; backend: SpeedBackend; key: string; model?: undefined }
  | { kind: 'parity'; model: SpeedModel; backend: 'torch'; key: string }
  | { kind: 'predict' | 'sample'; model: SpeedModel; backend: SpeedBackend; fill: SpeedFill; batch: number; key: string };
export type PlannedModelCell = Exclude<PlannedCell, { kind: 'peak' }>;
export type PlannedTimedCell = Extract<PlannedCell, { kind: 'predict' | 'sample' }>;

export interface ConvShape {
  batch: number;
  channels: number;
  size: number;
  kernel: number;
}
export interface MatmulShape {
  n: number;
}
export interface PeakShapes {
  conv: ConvShape;
  matmul: MatmulShape;
}
/** A peak measurement: its shape, FLOPs, timing and GFLOP/s. */
export type PeakFigure<Shape> = Shape & Timing & { flops: number; gflops: number };
export interface PeakResult {
  conv: PeakFigure<ConvShape>;
  matmul: PeakFigure<MatmulShape>;
}
/** Peak GFLOP/s of one runtime in one session. */
export interface PeakGflops {
  conv: number;
  matmul: number;
}

export interface SpeedConfig {
  threads: number;
  quick: boolean;
  cs: number[];
  sampler: string;
  predictTimestep: number;
  weights: string;
  parityTolerance: number;
  peak: PeakShapes;
}

export interface TorchInfo {
  torch: string;
  numpy: string;
  python: string;
  threads: number;
  interopThreads: number;
  mkldnn: boolean;
  blas: string | null;
}

export interface SpeedSession {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  argv: string[];
  loadAverageStart: number[];
  loadAverageEnd: number[] | null;
  versions: RuntimeVersions;
  torch: TorchInfo | null;
  openblasPthread: DebianPackage;
  git: GitInfo;
  /** <backend>: GFLOP/s measured at this session's start. */
  peaks: Partial<Record<string, PeakGflops>>;
  /** Set by hand: the session whose peaks hold for this one. */
  peaksFrom?: number;
  peaksFromReason?: string;
  /** <backend> or <backend>|<model>: why it was not measured. */
  unavailable: Record<string, string>;
}

/** A decoder stage of a model and the timestep its per-k predict() cells are timed at. */
export interface StageInfo {
  stage: number;
  tStart: number;
  tEnd: number;
  timestep: number;
}

/** The fields a cell gets when stored. */
interface Stamped {
  session: number;
  measuredAt: string;
}
/** Other CPU use during a timed cell (absent in cells measured before it was recorded). */
interface OtherCpuFields {
  otherCores?: number;
  stealCores?: number;
}
/** The fields every predict and sample cell has. */
export interface TimedCellFields extends OtherCpuFields {
  model: string;
  backend: string;
  backendName: string;
  batch: number;
  fill: string;
  sidePaths: boolean;
  threads: number | null;
}

export interface PeakCell extends Stamped, OtherCpuFields {
  kind: 'peak';
  backend: string;
  threads: number | null;
  conv: PeakFigure<ConvShape>;
  matmul: PeakFigure<MatmulShape>;
}
export interface ParityCase {
  k: number;
  fill: string;
  maxAbsDiff: number;
  maxAbsEps: number;
  sidePaths: boolean;
  stage?: number;
}
export interface ParityCell extends Stamped {
  kind: 'parity';
  model: string;
  backend: 'torch';
  against: 'onnx-cpu';
  tolerance: number;
  passed: boolean;
  maxAbsDiff: number;
  cases: ParityCase[];
  otherCores?: undefined;
  stealCores?: undefined;
}
/** predict() timings at depth k (and decoder stage, for a multi-decoder model). */
export interface KTiming extends Timing {
  k: number;
  stage?: number;
}
export interface StageTiming extends Timing {
  stage: number;
}
/** What measuring one predict cell gives (per stage for a multi-decoder model). */
export interface PredictMeasurement {
  /** Single-decoder models: the timestep of the inputs. */
  timestep?: number;
  /** Multi-decoder models: every stage and the timestep it was timed at. */
  stages?: StageInfo[];
  ks: KTiming[];
  /** Cache fill, single decoder: the full network without a feature cache. */
  baseline?: Timing;
  /** Cache fill, multi-decoder: per stage. */
  baselines?: StageTiming[];
}
export interface PredictCell extends Stamped, TimedCellFields, PredictMeasurement {
  kind: 'predict';
}
export interface SampleSchedule extends Timing {
  c: number;
  kHistogram: number[];
}
export interface SampleCell extends Stamped, TimedCellFields {
  kind: 'sample';
  sampler: 'ddim50';
  samplerDescription: string;
  steps: number;
  seed: number;
  schedules: SampleSchedule[];
}
export type SpeedCell = PeakCell | ParityCell | PredictCell | SampleCell;
/** A cell as measured, before `store` stamps it with its session and time. */
export type UnstampedCell<C extends SpeedCell = SpeedCell> = C extends SpeedCell ? Omit<C, 'session' | 'measuredAt'> : never;

/** The speed results file, schema `levelskip-bench-speed/1`. */
export interface SpeedDocument {
  schema: string;
  machine: Machine;
  config: SpeedConfig;
  sessions: SpeedSession[];
  cells: Record<string, SpeedCell>;
  derived: SpeedTables | null;
}

/** Specs, FLOP tables, decoder stages and step lists of a preset (speed-tables.mjs modelContext). */
export interface ModelContext {
  name: string;
  spec: UNetSpec;
  sideSpec: UNetSpec;
  arch: Architecture;
  block: string;
  levels: number;
  stages: StageInfo[];
  multiStage: boolean;
  table: FlopTable;
  sideTable: FlopTable;
  timesteps: Record<SpeedSampler, readonly number[]>;
}

/** The k of every step of a sampler under one schedule (speed-tables.mjs scheduleKs). */
export interface ScheduleKs {
  nominal: number[];
  effective: number[];
  stages: number[];
}

// Derived tables (speed-tables.mjs deriveSpeedTables), stored as the results file's `derived`.

export interface ModelRow {
  model: string;
  block: string;
  levels: number;
  stages: Array<StageInfo & { gflopsFull: number | null }>;
}
export interface PredictedRow {
  model: string;
  fill: string;
  c: number;
  sampler: SpeedSampler;
  predictedSaved: number | null;
  kHistogram: number[];
  stageHistogram?: number[];
}
export interface PerKRow {
  model: string;
  backend: string;
  batch: number;
  fill: string;
  stage: number;
  timestep: number | null;
  k: number;
  ms: number;
  runs: number;
  gflops: number | null;
  speedup: number | null;
  flopSpeedup: number | null;
}
export interface Table2Row {
  model: string;
  backend: string;
  batch: number;
  fill: string;
  c: number;
  sampler: SpeedSampler;
  source: 'sample' | 'per-k';
  runMs: number | null;
  fullMs: number | null;
  measuredSaved: number | null;
  predictedSaved: number | null;
  ratio: number | null;
}
export interface ThroughputRow {
  model: string;
  backend: string;
  batch: number;
  fill: string;
  c: number;
  sampler: SpeedSampler;
  source: 'sample' | 'per-k';
  backendMs: number | null;
  torchMs: number | null;
  ratio: number | null;
}
export interface GflopsRow {
  model: string;
  backend: string;
  batch: number;
  stage: number;
  threads: number | null;
  gflopsFull: number | null;
  gflopsDeepestSkip: number | null;
  peakConvGflops: number | null;
  peakMatmulGflops: number | null;
  fractionOfConvPeak: number | null;
}
export interface ParityRow {
  model: string;
  passed: boolean;
  maxAbsDiff: number;
  tolerance: number;
  cases: number;
}
export interface SpeedTables {
  models: ModelRow[];
  predicted: PredictedRow[];
  perK: PerKRow[];
  table2: Table2Row[];
  throughputVsTorch: ThroughputRow[];
  gflops: GflopsRow[];
  parity: ParityRow[];
}

// The PyTorch peer (bench/lib/torch-peer.mjs; formats documented in scripts/dev/torch-unet-peer.py).

/** A float32 array as the peer's job file carries it. */
export interface EncodedTensor {
  shape: number[];
  float32: string;
}
export interface PeerParityRun {
  stage?: number;
  k: number;
  fill: string;
  input: string;
  timesteps: number[];
  warmup?: { input: string; timesteps: number[] };
  expected: EncodedTensor;
}
export interface PeerJob {
  threads: number;
  /** The peer's default: cpu. */
  device?: 'cpu' | 'cuda';
  timing: SpeedTiming & { slowRoundMs: number };
  /** Checkpoint directories by id. */
  models: Record<string, string>;
  parity: Array<{ model: string; name: string; tolerance: number; inputs: Record<string, EncodedTensor>; runs: PeerParityRun[] }>;
  predict: Array<{ key: string; model: string; batch: number; fill: string; ks: number[]; timestep?: number; stages?: Array<{ stage: number; timestep: number }> }>;
  sample: Array<{ key: string; model: string; batch: number; fill: string; timesteps: readonly number[]; schedules: Array<{ c: number; ks: number[] }>; rounds: number }>;
  peak: PeakShapes | null;
}
export type PeerMessage =
  | ({ type: 'info' } & TorchInfo)
  | { type: 'parity'; model: string; name: string; tolerance: number; passed: boolean; maxAbsDiff: number; cases: Array<Omit<ParityCase, 'sidePaths'>> }
  | ({ type: 'predict'; key: string } & Omit<PredictMeasurement, 'baseline'> & { baseline?: Timing | null })
  | { type: 'sample'; key: string; stages: number[]; schedules: Array<Timing & { c: number; effectiveKs: number[] }> }
  | ({ type: 'peak' } & PeakResult);

// ---------------------------------------------------------------------------------------------
// The quality suite (bench/quality.mjs; schema documented at the top of bench/quality-report.mjs).

export type QualityTable = 'table1' | 'table3' | 'table4' | 'recipes' | 'table5';

/** A --checkpoint outside the catalogue. */
export interface CheckpointArgument {
  label: string;
  dir: string;
}
/** A --checkpoint read: the fill it was trained with, its weights identity and training record. */
export interface RecipeModel extends CheckpointArgument {
  fill: string;
  weights: WeightsIdentity;
  training: Partial<TrainingRecord>;
}

export interface QualityOptions {
  tables: string[];
  models: string[] | undefined;
  checkpoints: CheckpointArgument[];
  recipeCs: number[];
  samples: number;
  batch: number;
  seed: number;
  backend: 'onnx' | 'tfjs';
  out: string;
  force: boolean;
  quick: boolean;
  dryRun: boolean;
  help: boolean;
  /** Set by runQuality once the checkpoints are read. */
  recipeModels?: RecipeModel[];
}

/** The weights a quality cell was measured with. */
export interface WeightsIdentity {
  steps: number | null;
  images: number | null;
  durationMs: number | null;
}

/** One configuration to score (quality.mjs configurations). */
export interface QualityConfiguration {
  model: string;
  fill: string;
  trainedFor: boolean;
  /** Power-schedule curvature; null for a constant-k or auto schedule. */
  c: number | null;
  /** Constant k (Table 4, Table 5's cache family). */
  k?: number | null;
  /** Auto schedule: the fraction of the time to save. */
  auto?: number;
  /** A recipe checkpoint's directory. */
  checkpoint?: string;
  sampler: string;
  steps: number;
  eta: number | null;
}
export interface KeyedConfiguration extends QualityConfiguration {
  key: string;
  tables: string[];
}

export interface FloorFigure {
  mean: number;
  min: number;
  max: number;
  blocks: number;
  count: number;
}

/** A scored configuration in the quality results file. */
export interface QualityCell extends QualityConfiguration, OtherCpuFields {
  tables: string[];
  /** The model's training record when measured (a cell of other weights is stale). */
  weights: WeightsIdentity;
  fdLenet: number;
  /** Null where the CLI computed none. */
  floor: FloorFigure | null;
  recognisable?: number;
  realRecognisable?: number;
  training?: Partial<TrainingRecord>;
  samplerDescription: string;
  schedule: string;
  backendName: string;
  predictedFractionSaved: number;
  kHistogram: number[];
  sampleMs: number;
  msPerImage: number;
  wallMs: number;
  loadAverage: number[];
  session: number;
  measuredAt: string;
}

export interface QualityConfig {
  quick: boolean;
  samples: number;
  batch: number;
  seed: number;
  backend: string;
}

export interface QualitySession {
  id: number;
  startedAt: string;
  finishedAt?: string;
  status: string;
  argv: string[];
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  versions: RuntimeVersions;
  git: GitInfo;
  missing?: string[];
}

/** The quality results file, schema `levelskip-bench-quality/1`. */
export interface QualityDocument {
  schema: string;
  machine: Machine;
  config: QualityConfig;
  sessions: QualitySession[];
  cells: Record<string, QualityCell>;
}

/** What the readers of results files share (bench/lib/results-file.mjs). */
export interface ResultsDocument {
  schema: string;
  machine: Machine;
  config: object;
  sessions: unknown[];
  cells: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The chart (bench/lib/chart.mjs).

export interface ChartPoint {
  x: number;
  y: number;
  label?: string | undefined;
  highlight?: boolean;
}
export interface ChartSeries {
  name: string;
  color?: string;
  points: ChartPoint[];
}
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  series: ChartSeries[];
  /** Drawn as a dashed line through the points. */
  frontier?: Array<{ x: number; y: number }>;
  /** More fronts (e.g. one per table row), each a dashed line in its colour; `legend` names them once in the legend. */
  frontiers?: Array<{ color: string; points: Array<{ x: number; y: number }> }>;
  frontiersLegend?: string;
  /** A horizontal dotted line (e.g. the real-vs-real floor). */
  reference?: { y: number; label: string };
}
export type ChartShape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; color: string; width: number; dash?: [number, number] }
  | { kind: 'circle'; cx: number; cy: number; r: number; fill: string; stroke: string }
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor: 'start' | 'middle' | 'end'; color: string };
export interface Chart {
  width: number;
  height: number;
  shapes: ChartShape[];
}
/** An image as the CLI's PNG encoder takes it. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}
/** The CLI's bitmap font (its drawText, textWidth and fontCharacters). */
export interface BitmapFont {
  drawText(image: Pixels, text: string, x: number, y: number, options: { scale: number; ink: number }): unknown;
  textWidth(text: string, scale: number): number;
  fontCharacters: Iterable<string>;
}

// ---------------------------------------------------------------------------------------------
// The web suite (bench/web.mjs): the demo page's test hook (examples/web/src/main.ts).

/** What `window.levelskipDemo` offers once the page has probed its engines. */
export interface DemoPageHook {
  ready: boolean;
  probes: Array<{ id: string; label: string; ok: boolean; threads?: number; reason?: string }>;
  /** Median ms of one predict() at each k (`msPerPredict[k]`), and the engine's threads where known. */
  timeDepths(engine: string, model: string, batch: number, repeats: number): Promise<{ batch: number; msPerPredict: readonly number[]; threads?: number }>;
}
/** The page's global object (its `window`), as the functions bench/web.mjs evaluates in it see it. */
export interface DemoPageGlobal {
  levelskipDemo?: DemoPageHook;
}

// ---------------------------------------------------------------------------------------------
// Report rendering (bench/report.mjs).

/** Where a renderer may write its assets (charts). */
export interface RenderContext {
  outDirectory: string;
  assetName: string;
  /** Quality: the weights each model has now (default: the shipped ones). */
  currentWeights?: Map<string, WeightsIdentity>;
}
/** Renders one results file (the parsed JSON, of the renderer's schema; its shown path) as a Markdown section. */
export type Renderer = (doc: unknown, path: string, context: RenderContext) => Promise<string>;
