/**
 * The real check of the shipped weights file: the plain-TypeScript classifier on
 * weights/lenet.safetensors reaches ≥ 98.5 % on the MNIST test split of @levelskip/datasets' loadMnist
 * (the last 100 digits of each class, never trained on), and weights/lenet.json records it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '@levelskip/datasets';
import { describe, expect, it } from 'vitest';
import { lenetWeightsDirectory, loadLenet } from '../src/index.js';

describe('shipped LeNet', () => {
  it('classifies the 1,000 test digits with ≥ 98.5 % accuracy', async () => {
    const test = await loadMnist({ split: 'test' });
    expect(test.count).toBe(1000);
    const lenet = await loadLenet();
    const predicted = lenet.classify(test.images, test.count);
    let correct = 0;
    const perClass = new Array<number>(10).fill(0);
    for (let i = 0; i < test.count; i++) {
      if (predicted[i] === test.labels[i]) {
        correct += 1;
        perClass[test.labels[i]!]! += 1;
      }
    }
    const accuracy = correct / test.count;
    expect(accuracy).toBeGreaterThanOrEqual(0.985);
    // No class is sacrificed for the average (100 test digits each).
    for (const hits of perClass) expect(hits).toBeGreaterThanOrEqual(95);

    // lenet.json states what was measured on this very file.
    const manifest = JSON.parse(readFileSync(join(lenetWeightsDirectory(), 'lenet.json'), 'utf8')) as { testAccuracy: number; architecture: { parameters: number } };
    expect(manifest.testAccuracy).toBe(accuracy);
    expect(manifest.architecture.parameters).toBe(127_462);
  });

  it('is loaded once per process and found from the sources', async () => {
    expect(await loadLenet()).toBe(await loadLenet());
    expect(lenetWeightsDirectory()).toBe(join(new URL('..', import.meta.url).pathname, 'weights'));
  });

  it('says where it looked when a weights directory has no lenet.safetensors', async () => {
    await expect(loadLenet({ directory: '/nonexistent-levelskip-weights' })).rejects.toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_MISSING', message: expect.stringContaining('/nonexistent-levelskip-weights/lenet.safetensors') }),
    );
  });
});
