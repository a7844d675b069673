/**
 * tfjs's cpu engine prints a banner in Node on its first tensor ("Hi, looks like you are running
 * TensorFlow.js in Node.js…"). When `auto` lands on cpu after trying the native engines, levelskip
 * uses the banner up without printing it; an explicit `cpu` leaves tfjs's behaviour alone.
 * (The test setup turns tfjs's logging off; these tests turn it back on to see the banner.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { engineCandidates, selectEngine } from '../../src/engine/select-engine.js';

const banner = /looks like you are running TensorFlow\.js in Node\.js/;

/** A new cpu backend instance, whose first tensor would print the banner again. */
function freshCpuEngine(): void {
  const factory = tf.findBackendFactory('cpu');
  if (factory === null) throw new Error('the cpu backend is not registered');
  tf.removeBackend('cpu');
  tf.registerBackend('cpu', factory, 1);
}

function warnings(spy: { mock: { calls: unknown[][] } }): string {
  return spy.mock.calls.map((call) => call.map(String).join(' ')).join('\n');
}

describe('the cpu engine banner', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  beforeEach(() => {
    tf.env().set('PROD', false);
    warn.mockClear();
    freshCpuEngine();
  });
  afterEach(() => tf.env().set('PROD', true));

  it("is used up silently when 'auto' falls back to cpu, and tfjs's logging flag is restored", async () => {
    const fail = { load: () => Promise.reject(new Error('unavailable here')) };
    const candidates = {
      ...engineCandidates,
      'node-gpu': { ...engineCandidates['node-gpu'], ...fail },
      node: { ...engineCandidates.node, ...fail },
      wasm: { ...engineCandidates.wasm, ...fail },
    };
    expect((await selectEngine('auto', {}, candidates)).engine).toBe('cpu');
    tf.dispose(tf.tensor1d([1, 2, 3]));
    expect(warnings(warn)).not.toMatch(banner);
    expect(tf.env().getBool('PROD')).toBe(false);
  });

  it("is tfjs's to print when cpu is chosen by name", async () => {
    expect((await selectEngine('cpu')).engine).toBe('cpu');
    tf.dispose(tf.tensor1d([1, 2, 3]));
    expect(warnings(warn)).toMatch(banner);
  });
});
