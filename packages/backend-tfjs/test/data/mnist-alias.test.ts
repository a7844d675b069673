/**
 * The MNIST loader lives in @levelskip/datasets (tested there); this package re-exports it for one
 * release, deprecated, so code that imported it from here keeps working unchanged.
 */
import * as datasets from '@levelskip/datasets';
import { describe, expect, it } from 'vitest';
import { loadMnist, mnistTestPerDigit, type MnistDataset } from '../../src/index.js';

describe('loadMnist (deprecated alias)', () => {
  it("is @levelskip/datasets' loader itself", async () => {
    expect(loadMnist).toBe(datasets.loadMnist);
    expect(mnistTestPerDigit).toBe(datasets.mnistTestPerDigit);
    const data: MnistDataset = await loadMnist({ split: 'test', count: 10 });
    expect([...data.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
