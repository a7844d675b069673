import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { otherCpu } from '../lib/machine.mjs';
import { runTorchPeer } from '../lib/torch-peer.mjs';
import { busySpeedCells } from '../report.mjs';
import { sessionPeak } from '../speed-tables.mjs';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-speed-report-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('other CPU use during a speed cell', () => {
  it('also leaves out a child process\'s CPU time (the PyTorch peer\'s)', () => {
    const before = { busySeconds: 100, stealSeconds: 0, ownSeconds: 10, wallSeconds: 50 };
    // 10 s of wall time, 20 s busy: this process 1 s, the peer 17 s, so 2 s of other work = 0.2 cores.
    expect(otherCpu(before, { busySeconds: 120, stealSeconds: 0, ownSeconds: 11, wallSeconds: 60 }, 17)).toEqual({ otherCores: 0.2, stealCores: 0 });
    // Without the peer's time, the same interval would read 1.9 cores of other work.
    expect(otherCpu(before, { busySeconds: 120, stealSeconds: 0, ownSeconds: 11, wallSeconds: 60 })).toEqual({ otherCores: 1.9, stealCores: 0 });
  });

  it('is measured between the peer\'s messages, whose cpuSeconds field is taken off the message', async () => {
    // A stand-in for Python: ignores the script and job arguments and prints two result lines.
    const fake = join(directory, 'fake-python');
    writeFileSync(fake, '#!/bin/sh\necho \'{"type":"info","torch":"x","cpuSeconds":0.01}\'\necho \'{"type":"peak","cpuSeconds":0.02}\'\n');
    chmodSync(fake, 0o755);
    const received: Array<[Record<string, unknown>, unknown]> = [];
    await runTorchPeer({ python: fake, directory, job: { threads: 1 }, onMessage: (message: Record<string, unknown>, cpu: unknown) => received.push([message, cpu]) });
    expect(received.map(([m]) => m)).toEqual([{ type: 'info', torch: 'x' }, { type: 'peak' }]);
    for (const [, cpu] of received) {
      if (process.platform === 'linux') expect(cpu).toEqual({ otherCores: expect.any(Number), stealCores: expect.any(Number) });
      else expect(cpu).toBeNull();
    }
  });
});

describe('busy speed cells', () => {
  const doc = {
    machine: { cores: 2 },
    sessions: [
      { id: 0, loadAverageStart: [1.4, 1.9, 2.4] }, // busy start (above a quarter of 2 cores)
      { id: 1, loadAverageStart: [0.1, 0.5, 0.9] },
      { id: 2, loadAverageStart: [1.2, 0.6, 0.4] }, // busy start, but its cells measured their own CPU
    ],
    cells: {
      'predict|a|onnx|b1|zero': { kind: 'predict', session: 0 },
      'parity|a': { kind: 'parity', session: 0 },
      'predict|b|onnx|b1|zero': { kind: 'predict', session: 1 },
      'predict|c|onnx|b1|zero': { kind: 'predict', session: 2, otherCores: 0.05, stealCores: 0 },
      'sample|c|onnx|b1|zero|ddim50': { kind: 'sample', session: 2, otherCores: 0.15, stealCores: 0.1 },
      'peak|torch': { kind: 'peak', session: 1, otherCores: 0.3, stealCores: 0 },
    },
  };

  it('are cells over a tenth of the cores of other work, or, without that measurement, from a busy-started session', () => {
    // A tenth of 2 cores is 0.2: 0.05 is quiet, 0.15 + 0.1 steal and 0.3 are not; parity cells time nothing.
    expect(busySpeedCells(doc).sort()).toEqual(['peak|torch', 'predict|a|onnx|b1|zero', 'sample|c|onnx|b1|zero|ddim50']);
  });
});

describe('the peaks a cell is read against', () => {
  const peakCell = (session: number, conv: number) => ({ kind: 'peak', backend: 'onnx', session, conv: { gflops: conv }, matmul: { gflops: conv * 2 } });
  const doc = {
    sessions: [
      { id: 0 }, // measured the peak|onnx cell before per-session peaks existed… until session 3 replaced it
      { id: 1, peaksFrom: 0 },
      { id: 2, peaks: { onnx: { conv: 130, matmul: 105 } } },
      { id: 3, peaks: { onnx: { conv: 300, matmul: 460 } } },
      { id: 4 },
    ],
    cells: { 'peak|onnx': peakCell(3, 300) },
  };

  it('are its own session\'s, or those of the session its peaksFrom names, never another session\'s', () => {
    expect(sessionPeak(doc, 2, 'onnx')).toEqual({ conv: 130, matmul: 105 });
    expect(sessionPeak(doc, 3, 'onnx')).toEqual({ conv: 300, matmul: 460 });
    // Session 0's peak cell was replaced and it recorded no peaks of its own: none, not session 3's.
    expect(sessionPeak(doc, 0, 'onnx')).toBeNull();
    expect(sessionPeak(doc, 1, 'onnx')).toBeNull();
    expect(sessionPeak(doc, 4, 'onnx')).toBeNull();
    expect(sessionPeak(doc, 2, 'torch')).toBeNull();
    // While session 0's cell is still the file's peak cell, it holds for session 0 and, by peaksFrom, session 1.
    const older = { ...doc, cells: { 'peak|onnx': peakCell(0, 304) } };
    expect(sessionPeak(older, 0, 'onnx')).toEqual({ conv: 304, matmul: 608 });
    expect(sessionPeak(older, 1, 'onnx')).toEqual({ conv: 304, matmul: 608 });
  });
});
