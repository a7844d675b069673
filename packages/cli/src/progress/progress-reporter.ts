/**
 * Progress on stderr: a redrawn bar (cli-progress) when stderr is a terminal, and on anything else
 * (a pipe, a log file, CI) a plain line every ~10 % of the work, so logs stay readable.
 */
import cliProgress from 'cli-progress';

/** Where progress goes: `process.stderr` or anything with `write` (and `isTTY` for a terminal). */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressUpdate {
  /** Text after the counter, e.g. `k=3` or `loss 0.0312 k=2 41.0 img/s`. */
  readonly detail?: string;
  /**
   * Lines mode: the text after the counter instead of `detail`. A line is printed only every
   * ~10 % of the work, so in a periodic run (rows sampled in turn) a per-step `detail` would show
   * the same point of the period on every line; this can describe the whole run instead.
   */
  readonly lineDetail?: string;
  /** Estimated time left; by default extrapolated from the elapsed time and the fraction done. */
  readonly etaMs?: number;
}

export interface ProgressReporter {
  /** Starts the display; `total` may be unknown. */
  start(total: number | undefined): void;
  /** Reports `value` units done (of `total`). */
  update(value: number, update?: ProgressUpdate): void;
  /** Ends the display (a bar moves to the next line). Harmless twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** Leading word, e.g. `sampling` or `training`. */
  readonly label: string;
  /** Default `process.stderr`. */
  readonly stream?: ProgressStream;
  /** `auto` (default): a bar on a TTY, lines otherwise; `off`: nothing. */
  readonly mode?: 'auto' | 'bar' | 'lines' | 'off';
  /** Lines mode: print after every this fraction of the total (default 0.1). */
  readonly lineEvery?: number;
  /** Lines mode with an unknown total: print at most every this many ms (default 30 s). */
  readonly lineIntervalMs?: number;
  /** Clock in ms (tests); default `performance.now`. */
  readonly now?: () => number;
}

/** `850 ms`, `12.3s`, `4m 05s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m ${String(totalSeconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function etaOf(elapsedMs: number, value: number, total: number | undefined, given: number | undefined): number | undefined {
  if (given !== undefined) return given;
  if (total === undefined || value <= 0) return undefined;
  return (elapsedMs / value) * Math.max(0, total - value);
}

/** A progress display for `label` (see the file comment). */
export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode === undefined || options.mode === 'auto' ? (stream.isTTY === true ? 'bar' : 'lines') : options.mode;
  const now = options.now ?? (() => performance.now());
  if (mode === 'off') return { start: () => undefined, update: () => undefined, stop: () => undefined };
  return mode === 'bar' ? barReporter(options.label, stream, now) : lineReporter(options, stream, now);
}

function barReporter(label: string, stream: ProgressStream, now: () => number): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {value}/{total} {detail} | {elapsedText} elapsed | ETA {etaText}`,
      stream: stream as NodeJS.WritableStream,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  let total: number | undefined;
  let running = false;
  return {
    start(t) {
      total = t;
      started = now();
      running = true;
      bar.start(t ?? 0, 0, { detail: '', elapsedText: '0 ms', etaText: '?' });
    },
    update(value, update = {}) {
      if (!running) return;
      const elapsed = now() - started;
      const eta = etaOf(elapsed, value, total, update.etaMs);
      bar.update(value, { detail: update.detail ?? '', elapsedText: formatDuration(elapsed), etaText: eta === undefined ? '?' : formatDuration(eta) });
    },
    stop() {
      if (!running) return;
      running = false;
      bar.stop();
    },
  };
}

function lineReporter(options: ProgressOptions, stream: ProgressStream, now: () => number): ProgressReporter {
  const every = options.lineEvery ?? 0.1;
  const interval = options.lineIntervalMs ?? 30_000;
  let started = 0;
  let total: number | undefined;
  let lastBucket = 0;
  let lastLine = 0;
  return {
    start(t) {
      total = t;
      started = now();
      lastBucket = 0;
      lastLine = started;
    },
    update(value, update = {}) {
      const time = now();
      let due: boolean;
      if (total !== undefined && total > 0) {
        // One line each time the done fraction crosses a multiple of `every`, and at the end.
        const bucket = Math.floor(value / total / every + 1e-9);
        due = bucket > lastBucket || value === total;
        if (due) lastBucket = bucket;
      } else {
        due = time - lastLine >= interval;
      }
      if (!due) return;
      lastLine = time;
      const elapsed = time - started;
      const eta = etaOf(elapsed, value, total, update.etaMs);
      const counter = total === undefined ? `${value}` : `${value}/${total} (${Math.round((100 * value) / total)}%)`;
      const text = update.lineDetail ?? update.detail;
      const detail = text ? ` ${text}` : '';
      const etaText = value === total ? '' : ` ETA ${eta === undefined ? '?' : formatDuration(eta)}`;
      stream.write(`${options.label} ${counter}${detail} ${formatDuration(elapsed)} elapsed${etaText}\n`);
    },
    stop: () => undefined,
  };
}
