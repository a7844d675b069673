/** Progress display on a non-terminal stderr (plain lines every ~10 %) and tables. */
import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatDuration } from '../src/progress/progress-reporter.js';
import { formatTable } from '../src/output/format-table.js';

function fakeStream(isTTY: boolean) {
  const lines: string[] = [];
  return { stream: { write: (chunk: string) => lines.push(chunk), isTTY }, lines };
}

describe('progress on a non-TTY stream', () => {
  it('prints one line per 10 % of the work, with step/total, detail, elapsed time and ETA', () => {
    const { stream, lines } = fakeStream(false);
    let now = 0;
    const progress = createProgressReporter({ label: 'sampling', stream, now: () => now });
    progress.start(50);
    for (let step = 1; step <= 50; step++) {
      now = step * 100; // 100 ms per step
      progress.update(step, { detail: `k=${step < 25 ? 3 : 0}` });
    }
    progress.stop();
    expect(lines).toHaveLength(10);
    // Step 5 of 50 after 500 ms: 45 steps left at 100 ms each.
    expect(lines[0]).toBe('sampling 5/50 (10%) k=3 500 ms elapsed ETA 4.5s\n');
    expect(lines[9]).toBe('sampling 50/50 (100%) k=0 5.0s elapsed\n');
  });

  it('uses a given ETA and prints on a timer when the total is unknown', () => {
    const { stream, lines } = fakeStream(false);
    let now = 0;
    const progress = createProgressReporter({ label: 'training', stream, now: () => now, lineIntervalMs: 1000 });
    progress.start(undefined);
    for (let step = 1; step <= 30; step++) {
      now = step * 250;
      progress.update(step, { detail: 'loss 0.1000', etaMs: 60_000 });
    }
    // A line each time 1 s has passed since the last: at 1 s, 2 s, …, 7 s.
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('training 4 loss 0.1000 1.0s elapsed ETA 1m 00s\n');
  });

  it('prints nothing with mode off', () => {
    const { stream, lines } = fakeStream(true);
    const progress = createProgressReporter({ label: 'x', stream, mode: 'off' });
    progress.start(2);
    progress.update(2);
    progress.stop();
    expect(lines).toEqual([]);
  });
});

describe('formatDuration', () => {
  it('picks a unit', () => {
    expect([850, 12_340, 245_000, 7_380_000].map(formatDuration)).toEqual(['850 ms', '12.3s', '4m 05s', '2h 03m']);
  });
});

describe('formatTable', () => {
  it('pads columns, right-aligns numeric columns (and their headers) and rules the header', () => {
    expect(formatTable(['k', 'fill', 'FLOPs'], [[0, 'zero', '1.0 MFLOPs'], [12, 'duplicate', '2 kFLOPs']])).toBe(
      [' k  fill       FLOPs', '--  ---------  ----------', ' 0  zero       1.0 MFLOPs', '12  duplicate  2 kFLOPs', ''].join('\n'),
    );
  });
});
