/**
 * PNG grids: write with writeImageGrid, decode with pngjs, and compare pixels with values worked
 * out by hand from the documented layout (gutter 2, cells W·scale × H·scale, labels at x = gutter).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { composeImageGrid, stackImageBatches, toByte, writeImageGrid } from '../src/image/image-grid.js';
import { fontCharacters, glyphRows, textWidth } from '../src/image/bitmap-font.js';
import { errorOf } from './helpers/error-of.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-grid-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function decode(path: string): { width: number; height: number; colorType: number; gray: (x: number, y: number) => number; rgb: (x: number, y: number) => number[] } {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  return {
    width: png.width,
    height: png.height,
    colorType: png.colorType,
    gray: (x, y) => png.data[(y * png.width + x) * 4]!,
    rgb: (x, y) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)],
  };
}

describe('toByte', () => {
  it('maps [-1, 1] to [0, 255] with rounding, clamps outside, NaN to 0', () => {
    // round((v + 1) · 127.5): -1 → 0, 1 → 255, 0 → round(127.5) = 128, 0.5 → round(191.25) = 191, -0.5 → round(63.75) = 64.
    expect([-1, 1, 0, 0.5, -0.5, -3, 7, Number.NaN].map(toByte)).toEqual([0, 255, 128, 191, 64, 0, 255, 0]);
  });
});

describe('writeImageGrid', () => {
  it('writes a grayscale PNG whose pixels, gutters and empty cells match the hand-computed layout', async () => {
    // Three 2×2 images, two per row: width = 2 + 2·(2 + 2) = 10, height = 2 + 2·(2 + 2) = 10.
    const images = new Float32Array([
      ...[-1, 1, 0, 0.5], // image 0 at (2, 2)
      ...[-2, 2, Number.NaN, -0.5], // image 1 at (6, 2)
      ...[0.5, 0.5, -1, -1], // image 2 at (2, 6)
    ]);
    const path = join(directory, 'nested', 'deeper', 'grid.png');
    const written = await writeImageGrid({ images, shape: [3, 1, 2, 2], columns: 2 }, path);
    expect(written).toMatchObject({ path, width: 10, height: 10 });
    const png = decode(path);
    expect([png.width, png.height, png.colorType]).toEqual([10, 10, 0]);
    expect([png.gray(2, 2), png.gray(3, 2), png.gray(2, 3), png.gray(3, 3)]).toEqual([0, 255, 128, 191]);
    expect([png.gray(6, 2), png.gray(7, 2), png.gray(6, 3), png.gray(7, 3)]).toEqual([0, 255, 0, 64]);
    expect([png.gray(2, 6), png.gray(3, 6), png.gray(2, 7), png.gray(3, 7)]).toEqual([191, 191, 0, 0]);
    // Gutters (around and between cells) and the empty fourth cell are the white background.
    for (const [x, y] of [[0, 0], [1, 5], [4, 2], [5, 3], [9, 9], [2, 4], [2, 5], [6, 6], [7, 7], [8, 2]] as const) {
      expect(png.gray(x, y), `pixel (${x}, ${y})`).toBe(255);
    }
    // Atomic write: the parent directories were created and no temporary file is left beside the PNG.
    expect(readdirSync(join(directory, 'nested', 'deeper'))).toEqual(['grid.png']);
  });

  it('upscales by nearest neighbour and writes RGB for 3-channel images', async () => {
    // One 1×2 RGB image (H = 1, W = 2) at scale 2: the cell is 4 wide and 2 tall, at (2, 2).
    const images = new Float32Array([
      ...[1, -1], // R of pixels 0, 1
      ...[-1, 1], // G
      ...[0, -1], // B
    ]);
    const path = join(directory, 'rgb.png');
    await writeImageGrid({ images, shape: [1, 3, 1, 2], scale: 2, gutter: 1 }, path);
    const png = decode(path);
    // gutter 1: width = 1 + (4 + 1) = 6, height = 1 + (2 + 1) = 4.
    expect([png.width, png.height, png.colorType]).toEqual([6, 4, 2]);
    for (const [x, y] of [[1, 1], [2, 1], [1, 2], [2, 2]] as const) expect(png.rgb(x, y)).toEqual([255, 0, 128]);
    for (const [x, y] of [[3, 1], [4, 1], [3, 2], [4, 2]] as const) expect(png.rgb(x, y)).toEqual([0, 255, 0]);
    expect(png.rgb(0, 0)).toEqual([255, 255, 255]);
    expect(png.rgb(5, 3)).toEqual([255, 255, 255]);
  });

  it('draws row labels with the 5×7 font to the left of each row', async () => {
    // One 16×16 image with label "C=0": labelScale = max(1, ⌊16/16⌋) = 1, text width (3·6 − 1) = 17,
    // so cells start at x0 = 2 + 17 + 2 = 21; the grid is 21 + 16 + 2 = 39 wide and 2 + 16 + 2 = 20 tall.
    // The text's top is y = 2 + ⌊(16 − 7)/2⌋ = 6; "C" spans x 2..6, "=" x 8..12, "0" x 14..18.
    const path = join(directory, 'label.png');
    const images = new Float32Array(16 * 16).fill(-1);
    await writeImageGrid({ images, shape: [1, 1, 16, 16], rowLabels: ['C=0'] }, path);
    const png = decode(path);
    expect([png.width, png.height]).toEqual([39, 20]);
    const ink = (x: number, y: number): boolean => png.gray(x, y) === 0;
    // "=": rows 2 and 4 of the glyph (y = 8 and 10) are solid over x = 8..12, the other rows blank.
    for (let row = 0; row < 7; row++) {
      const expected = row === 2 || row === 4;
      for (let x = 8; x <= 12; x++) expect(ink(x, 6 + row), `"=" at (${x}, ${6 + row})`).toBe(expected);
    }
    // "C" top row is .###. (x = 3, 4, 5 inked), its second row #...# (x = 2 and 6).
    expect([2, 3, 4, 5, 6].map((x) => ink(x, 6))).toEqual([false, true, true, true, false]);
    expect([2, 3, 4, 5, 6].map((x) => ink(x, 7))).toEqual([true, false, false, false, true]);
    // "0" middle row #.#.# (the diagonal), at y = 6 + 3 = 9, x = 14..18.
    expect([14, 15, 16, 17, 18].map((x) => ink(x, 9))).toEqual([true, false, true, false, true]);
    // The blank column between glyphs, the gutter above the text, and the image (black, value -1 → 0) at x0.
    expect(ink(7, 8)).toBe(false);
    expect(ink(10, 5)).toBe(false);
    expect(png.gray(21, 2)).toBe(0);
    expect(png.gray(20, 2)).toBe(255);
  });

  it('draws lowercase as uppercase and scales the font with the cell height', () => {
    const images = new Float32Array(2 * 32 * 32).fill(1);
    const upper = composeImageGrid({ images, shape: [2, 1, 32, 32], columns: 1, rowLabels: ['C=2', 'K=1'] });
    const lower = composeImageGrid({ images, shape: [2, 1, 32, 32], columns: 1, rowLabels: ['c=2', 'k=1'] });
    expect(lower.data).toEqual(upper.data);
    // labelScale = ⌊32/16⌋ = 2: "=" occupies x = 2 + 6·2 = 14 .. 23; row 0 text starts at y = 2 + ⌊(32 − 14)/2⌋ = 11,
    // so the first bar of "=" (glyph row 2) covers y = 11 + 2·2 = 15 and 16.
    const { labels } = upper.layout;
    expect(labels.map((l) => [l.x, l.y, l.scale])).toEqual([
      [2, 11, 2],
      [2, 2 + 34 + 9, 2],
    ]);
    const at = (x: number, y: number): number => upper.data[y * upper.width + x]!;
    for (let x = 14; x <= 23; x++) {
      expect(at(x, 15)).toBe(0);
      expect(at(x, 16)).toBe(0);
      expect(at(x, 14)).toBe(255);
    }
  });

  it('rejects data that does not fit the shape, odd channel counts, a wrong label count and undrawable labels', () => {
    expect(errorOf(() => composeImageGrid({ images: new Float32Array(3), shape: [1, 1, 2, 2] }))).toMatchObject({ code: 'INVALID_SHAPE' });
    expect(errorOf(() => composeImageGrid({ images: new Float32Array(8), shape: [1, 2, 2, 2] }))).toMatchObject({ code: 'INVALID_SHAPE' });
    expect(errorOf(() => composeImageGrid({ images: new Float32Array(8), shape: [2, 1, 2, 2], columns: 1, rowLabels: ['a'] }))).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('2 rows'),
    });
    expect(errorOf(() => composeImageGrid({ images: new Float32Array(4), shape: [1, 1, 2, 2], rowLabels: ['c#2'] }))).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('"#"'),
    });
    expect(errorOf(() => composeImageGrid({ images: new Float32Array(4), shape: [1, 1, 2, 2], scale: 0 }))).toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe('stackImageBatches', () => {
  it('concatenates runs along the batch axis and rejects mismatched image shapes', () => {
    const a = { images: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 2, 2] as const };
    const b = { images: new Float32Array([5, 6, 7, 8, 9, 10, 11, 12]), shape: [2, 1, 2, 2] as const };
    const stacked = stackImageBatches([a, b]);
    expect(stacked.shape).toEqual([3, 1, 2, 2]);
    expect([...stacked.images]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(errorOf(() => stackImageBatches([a, { images: new Float32Array(6), shape: [1, 1, 2, 3] }]))).toMatchObject({ code: 'INVALID_SHAPE' });
  });
});

describe('the 5×7 font', () => {
  it('has every character the labels need, each 7 rows of 5 cells, all distinct', () => {
    for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 =.,:-%()/') expect(fontCharacters).toContain(character);
    const seen = new Map<string, string>();
    for (const character of fontCharacters) {
      const rows = glyphRows(character);
      expect(rows).toHaveLength(7);
      for (const row of rows) expect(row).toMatch(/^[#.]{5}$/);
      const key = rows.join('/');
      expect(seen.get(key), `${character} looks like ${seen.get(key)}`).toBeUndefined();
      seen.set(key, character);
    }
    expect(textWidth('c=2', 1)).toBe(17);
    expect(textWidth('', 3)).toBe(0);
  });
});
