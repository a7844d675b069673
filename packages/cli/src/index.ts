/**
 * @levelskip/cli: the `levelskip` command (demo, info, sample, eval, train, export), and the pieces it is
 * built from, for scripts that want the same output: PNG image grids with row labels, model
 * resolution (pretrained name, checkpoint, preset), progress display and tables.
 */
export { main, createProgram } from './program/create-program.js';
export type { CliCommand, CommandContext } from './program/cli-command.js';
export { processIo, writeJson, type CliIo, type CliOutput } from './program/cli-io.js';
export { errorLine, exitCodeOf, exitCodes, UsageError } from './program/exit-codes.js';
export { withInterrupt } from './program/interrupt.js';
export { commands } from './commands/index.js';
export { infoReport, planInfo, paperCurvatures, type InfoPlan, type InfoReport, type DepthReport, type TimeSavedReport } from './commands/info.js';
export {
  buildSampler,
  planSample,
  resolveSkipSchedule,
  runSample,
  samplerNames,
  type SampleFlags,
  type SamplePlan,
  type SampleSummary,
  type SamplerName,
  type SkipChoice,
} from './commands/sample.js';
export { distinctDepths, samplingDefaultsHelp, setUpSampling, type SamplingSetup } from './commands/sample.js';
export {
  applicableOrigins,
  formatWithOrigins,
  originLabels,
  resolveSamplerSettings,
  resolveSkipSettings,
  samplingLine,
  type SamplerFlagValues,
  type SamplerOrigins,
  type SamplerSettings,
  type SettingOrigin,
  type SkipSettings,
} from './sampling/sampling-settings.js';
export { formatFloor, maxEvalSamples, planEval, runEval, type EvalFlags, type EvalPlan, type EvalSummary } from './commands/eval.js';
export { planTrain, runTrain, trainingSchemeNames, trainableFills, type TrainFlags, type TrainPlan, type TrainSummary } from './commands/train.js';
export {
  checkExportAgainstSpec,
  exportFills,
  exportFormats,
  planExport,
  runDiffusersExport,
  runExport,
  type DiffusersExportSummary,
  type ExportFlags,
  type ExportFormat,
  type ExportPlan,
  type ExportSummary,
} from './commands/export.js';
export {
  composeImageGrid,
  encodePng,
  stackImageBatches,
  toByte,
  writeImageGrid,
  type ImageGrid,
  type ImageGridInput,
  type ImageGridLayout,
  type WrittenImageGrid,
} from './image/image-grid.js';
export { assertDrawable, drawText, fontCharacters, glyphAdvance, glyphHeight, glyphRows, glyphWidth, textWidth, type PixelCanvas } from './image/bitmap-font.js';
export { writeFileAtomic } from './files/write-file-atomic.js';
export {
  checkWeightsChoice,
  hasStoredWeights,
  loadModel,
  modelSourceFromOptions,
  presetNames,
  readSpecFile,
  trainedFill,
  trainedNoiseSchedule,
  trainedSchedule,
  type LoadModelOptions,
  type ModelSource,
  type ModelSourceOptions,
  type ResolvedModel,
} from './model/resolve-model.js';
export {
  backendNames,
  createBackend,
  describeBackendChoice,
  onnxBackendUnavailable,
  onnxProviders,
  parseBackendChoice,
  tfjsEngines,
  type BackendChoice,
  type BackendName,
  type TfjsEngineName,
} from './backends/backend-choice.js';
export { createProgressReporter, formatDuration, type ProgressOptions, type ProgressReporter, type ProgressStream, type ProgressUpdate } from './progress/progress-reporter.js';
export { createPhaseLog, type PhaseLog, type PhaseLogOptions } from './progress/phase-log.js';
export { formatBytes, formatFlops, formatInteger, formatPercent, formatTable, type TableCell, type TableColumn } from './output/format-table.js';
export {
  optionError,
  parseChoice,
  parseChoiceList,
  parseIntegerList,
  parseList,
  parseNonNegativeInteger,
  parseNumber,
  parseNumberIn,
  parsePositiveInteger,
} from './options/option-values.js';
export { addModelOptions, type ModelFlagValues } from './options/model-options.js';
export { cliVersion } from './version.js';
