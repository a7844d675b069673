/** The conversions of a batch of samples: bytes as the CLI writes them, RGBA, ImageData, PNG, grids. */
import { afterEach, describe, expect, it } from 'vitest';
import { imageBatch, toByte } from '../src/index.js';
import { decodePng } from './helpers/decode-png.js';

/** [2, C, 2, 3] samples with values spread over [−1.2, 1.2]. */
function samples(channels: number): { images: Float32Array; shape: [number, number, number, number] } {
  const shape: [number, number, number, number] = [2, channels, 2, 3];
  const n = shape.reduce((a, b) => a * b, 1);
  return { images: Float32Array.from({ length: n }, (_, i) => -1.2 + (2.4 * i) / (n - 1)), shape };
}

afterEach(() => {
  delete (globalThis as { ImageData?: unknown }).ImageData;
});

describe('imageBatch', () => {
  it('maps [−1, 1] to bytes as round((v + 1) · 127.5), clamped, NaN to 0', () => {
    expect([-1, 1, 0, -0.5, 0.5, -2, 2, Number.NaN, -0.996].map(toByte)).toEqual([0, 255, 128, 64, 191, 0, 255, 0, 1]);
  });

  it('greyscale images: toGreyscale is the bytes, toRGBA repeats them with opaque alpha', () => {
    const batch = imageBatch(samples(1));
    expect(batch).toMatchObject({ count: 2, channels: 1, height: 2, width: 3 });
    const grey = batch.toGreyscale(1);
    expect([...grey]).toEqual([...batch.image(1)].map(toByte));
    expect([...batch.toRGBA(1)]).toEqual([...grey].flatMap((v) => [v, v, v, 255]));
  });

  it('RGB images: toRGBA interleaves the planes, toGreyscale is BT.601 luma', () => {
    const batch = imageBatch(samples(3));
    const plane = batch.image(0);
    const [r, g, b] = [0, 1, 2].map((c) => [...plane.subarray(c * 6, (c + 1) * 6)].map(toByte)) as [number[], number[], number[]];
    expect([...batch.toRGBA(0)]).toEqual(r.flatMap((_, p) => [r[p], g[p], b[p], 255]));
    expect([...batch.toGreyscale(0)]).toEqual(r.map((_, p) => Math.round(0.299 * r[p]! + 0.587 * g[p]! + 0.114 * b[p]!)));
  });

  it('toPNG decodes to the same pixels (greyscale, and RGB)', async () => {
    const grey = imageBatch(samples(1));
    expect(decodePng(await grey.toPNG(1))).toEqual({ width: 3, height: 2, channels: 1, data: new Uint8Array(grey.toGreyscale(1)) });
    const rgb = imageBatch(samples(3));
    const rgba = rgb.toRGBA(1);
    expect(decodePng(await rgb.toPNG(1)).data).toEqual(Uint8Array.from(rgba.filter((_, i) => i % 4 !== 3)));
  });

  it('toImageData builds the platform ImageData from toRGBA, and says what to use where there is none', () => {
    const batch = imageBatch(samples(1));
    expect(() => batch.toImageData(0)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/toRGBA/) }));
    class FakeImageData {
      constructor(
        readonly data: Uint8ClampedArray,
        readonly width: number,
        readonly height: number,
      ) {}
    }
    (globalThis as { ImageData?: unknown }).ImageData = FakeImageData;
    const data = batch.toImageData(0);
    expect(data).toBeInstanceOf(FakeImageData);
    expect(data).toMatchObject({ width: 3, height: 2, data: batch.toRGBA(0) });
  });

  it('toGrid lays images out with gaps; toGridPNG decodes to it', async () => {
    const batch = imageBatch(samples(1));
    const grid = batch.toGrid({ columns: 1, gap: 1, background: 7, scale: 2 });
    expect(grid).toMatchObject({ width: 1 + 6 + 1, height: 1 + 2 * (4 + 1), channels: 1 });
    const at = (x: number, y: number): number => grid.data[y * grid.width + x]!;
    expect(at(0, 0)).toBe(7);
    const second = batch.toGreyscale(1);
    // Image 1 starts at (1, 6); pixel (x, y) of it covers 2×2 grid pixels.
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) expect(at(1 + x, 6 + y)).toBe(second[Math.floor(y / 2) * 3 + Math.floor(x / 2)]);
    expect(decodePng(await batch.toGridPNG({ columns: 1, gap: 1, background: 7, scale: 2 }))).toEqual(grid);
  });

  it('names the bad argument', async () => {
    const batch = imageBatch(samples(1));
    expect(() => batch.toGreyscale(2)).toThrow(/index must be an integer in \[0, 1\], got 2/);
    await expect(batch.toPNG(-1)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(() => batch.toGrid({ columns: 0 })).toThrow(/columns must be an integer/);
    expect(() => imageBatch(samples(2)).toRGBA(0)).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE', message: expect.stringMatching(/1 \(greyscale\) or 3 \(RGB\)/) }));
    expect(() => imageBatch({ images: new Float32Array(5), shape: [1, 1, 2, 3] })).toThrow(/6 values/);
  });
});
