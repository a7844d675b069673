/**
 * Image grids: a batch of NCHW float images in [-1, 1] laid out in rows and columns with a gutter
 * between (and around) the cells, like torchvision's `make_grid(padding=2)`, optionally with a text
 * label to the left of each row, then encoded as PNG.
 *
 * Layout (all in output pixels; `g` = gutter, cell = W·scale × H·scale):
 *
 *   cells start at x0 = g when there are no labels, else x0 = g + labelWidth + g, where labelWidth
 *   is the widest label's width; cell (row r, column c) has its top-left corner at
 *   (x0 + c·(cellW + g), g + r·(cellH + g)); the grid is x0 + columns·(cellW + g) wide and
 *   g + rows·(cellH + g) tall. Row r's label is drawn at x = g, vertically centred on the row:
 *   y = g + r·(cellH + g) + ⌊(cellH − 7·labelScale) / 2⌋.
 *
 * Pixel values: v ↦ round((v + 1) · 127.5), clamped to [0, 255] (NaN ↦ 0); one channel is written
 * as grayscale, three as RGB.
 */
import pngjs from 'pngjs';
import { LevelskipError } from '@levelskip/core';
import { writeFileAtomic } from '../files/write-file-atomic.js';
import { assertDrawable, drawText, glyphHeight, textWidth, type PixelCanvas } from './bitmap-font.js';

export interface ImageGridInput {
  /** The images, NCHW float32 (as `sample()` returns them), values in [-1, 1] (clamped outside). */
  readonly images: Float32Array;
  /** [B, C, H, W]; C must be 1 (grayscale) or 3 (RGB). */
  readonly shape: readonly [number, number, number, number];
  /** Images per row (default min(B, 8)). */
  readonly columns?: number;
  /** One label per row, drawn to its left with the built-in 5×7 font (lowercase is drawn uppercase). */
  readonly rowLabels?: readonly string[];
  /** Integer upscaling of every image (nearest neighbour), default 1. */
  readonly scale?: number;
  /** Gutter between and around cells in pixels (default 2). */
  readonly gutter?: number;
  /** Gray value of the gutters and the label column (default 255, white). */
  readonly background?: number;
  /** Gray value of the label text (default 0, black). */
  readonly ink?: number;
  /** Font pixel size of the labels (default max(1, ⌊cellH / 16⌋)). */
  readonly labelScale?: number;
}

/** Where each part of a composed grid lies, in output pixels. */
export interface ImageGridLayout {
  readonly columns: number;
  readonly rows: number;
  readonly cellWidth: number;
  readonly cellHeight: number;
  readonly gutter: number;
  /** Top-left corner of each image's cell, in batch order. */
  readonly cells: readonly { readonly x: number; readonly y: number }[];
  /** Top-left corner of each row label's text (empty without labels). */
  readonly labels: readonly { readonly text: string; readonly x: number; readonly y: number; readonly scale: number }[];
}

/** The widest and tallest grid composed, in pixels: larger requests fail before allocating. */
export const maxImageGridSide = 32_768;

/** A composed grid: 8-bit pixels, interleaved channels. */
export interface ImageGrid extends PixelCanvas {
  readonly layout: ImageGridLayout;
}

function invalid(message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `image grid: ${message}`);
}

function positiveInteger(value: number, name: string): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw invalid(`${name} must be an integer ≥ 1, got ${String(value)}`);
  return value;
}

function byteValue(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= 255)) throw invalid(`${name} must be an integer in [0, 255], got ${String(value)}`);
  return value;
}

/** Maps an image value in [-1, 1] to a byte: round((v + 1) · 127.5), clamped; NaN ↦ 0. */
export function toByte(value: number): number {
  const v = Math.round((value + 1) * 127.5);
  return v >= 255 ? 255 : v > 0 ? v : 0;
}

/**
 * The pixel size of the grid `composeImageGrid(input)` would make, computed without allocating
 * (for checks before sampling). Takes the same defaults; does not validate the images.
 */
export function imageGridSize(input: Pick<ImageGridInput, 'shape' | 'columns' | 'rowLabels' | 'scale' | 'gutter' | 'labelScale'>): { width: number; height: number; bytes: number } {
  const [batch, channels, height, width] = input.shape;
  const columns = input.columns ?? Math.min(batch, 8);
  const scale = input.scale ?? 1;
  const gutter = input.gutter ?? 2;
  const rows = Math.ceil(batch / columns);
  const labelScale = input.labelScale ?? Math.max(1, Math.floor((height * scale) / 16));
  const labelWidth = (input.rowLabels ?? []).reduce((widest, text) => Math.max(widest, textWidth(text, labelScale)), 0);
  const x0 = labelWidth > 0 ? gutter + labelWidth + gutter : gutter;
  const gridWidth = x0 + columns * (width * scale + gutter);
  const gridHeight = gutter + rows * (height * scale + gutter);
  return { width: gridWidth, height: gridHeight, bytes: gridWidth * gridHeight * channels };
}

/**
 * Lays out a batch of images as a grid (see the file comment for the exact layout).
 *
 * @throws LevelskipError `INVALID_SHAPE` when `images` does not hold B·C·H·W values or C is not 1 or 3;
 *   `INVALID_OPTION` for a bad `columns`, `scale`, `gutter`, colour, a label count different from
 *   the number of rows, or a character the label font cannot draw.
 */
export function composeImageGrid(input: ImageGridInput): ImageGrid {
  const { images, shape } = input;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw invalid(`shape must be [B, C, H, W] with positive integers, got ${JSON.stringify(shape)}`, 'INVALID_SHAPE');
  }
  const [batch, channels, height, width] = shape;
  if (channels !== 1 && channels !== 3) throw invalid(`images must have 1 (grayscale) or 3 (RGB) channels, got ${channels}`, 'INVALID_SHAPE');
  if (!(images instanceof Float32Array) || images.length !== batch * channels * height * width) {
    throw invalid(`images must be a Float32Array of B·C·H·W = ${batch * channels * height * width} values for shape [${shape.join(', ')}], got ${images?.length}`, 'INVALID_SHAPE');
  }
  const columns = positiveInteger(input.columns ?? Math.min(batch, 8), 'columns');
  const scale = positiveInteger(input.scale ?? 1, 'scale');
  const gutter = input.gutter ?? 2;
  if (!(Number.isSafeInteger(gutter) && gutter >= 0)) throw invalid(`gutter must be an integer ≥ 0, got ${String(gutter)}`);
  const background = byteValue(input.background ?? 255, 'background');
  const ink = byteValue(input.ink ?? 0, 'ink');
  const rows = Math.ceil(batch / columns);
  const cellWidth = width * scale;
  const cellHeight = height * scale;

  const labelTexts = input.rowLabels ?? [];
  if (input.rowLabels !== undefined && labelTexts.length !== rows) {
    throw invalid(`rowLabels has ${labelTexts.length} labels but the grid has ${rows} rows (${batch} images, ${columns} per row); pass one label per row`);
  }
  labelTexts.forEach((text) => assertDrawable(text));
  const labelScale = positiveInteger(input.labelScale ?? Math.max(1, Math.floor(cellHeight / 16)), 'labelScale');
  const labelWidth = labelTexts.reduce((widest, text) => Math.max(widest, textWidth(text, labelScale)), 0);
  const x0 = labelWidth > 0 ? gutter + labelWidth + gutter : gutter;

  const gridWidth = x0 + columns * (cellWidth + gutter);
  const gridHeight = gutter + rows * (cellHeight + gutter);
  if (gridWidth > maxImageGridSide || gridHeight > maxImageGridSide) {
    throw invalid(
      `a grid of ${rows} rows × ${columns} columns of ${cellWidth}×${cellHeight}-pixel cells would be ${gridWidth}×${gridHeight} pixels; ` +
        `the most is ${maxImageGridSide} per side: use fewer columns (or images per grid) or a smaller scale`,
    );
  }
  const data = new Uint8Array(gridWidth * gridHeight * channels).fill(background);
  const canvas: PixelCanvas = { width: gridWidth, height: gridHeight, channels, data };

  const cells: { x: number; y: number }[] = [];
  const plane = height * width;
  for (let b = 0; b < batch; b++) {
    const x = x0 + (b % columns) * (cellWidth + gutter);
    const y = gutter + Math.floor(b / columns) * (cellHeight + gutter);
    cells.push({ x, y });
    const imageOffset = b * channels * plane;
    for (let row = 0; row < cellHeight; row++) {
      const sourceRow = Math.floor(row / scale) * width;
      const targetRow = (y + row) * gridWidth + x;
      for (let column = 0; column < cellWidth; column++) {
        const source = sourceRow + Math.floor(column / scale);
        const target = (targetRow + column) * channels;
        for (let c = 0; c < channels; c++) data[target + c] = toByte(images[imageOffset + c * plane + source]!);
      }
    }
  }

  const labels = labelTexts.map((text, r) => {
    const x = gutter;
    const y = gutter + r * (cellHeight + gutter) + Math.floor((cellHeight - glyphHeight * labelScale) / 2);
    drawText(canvas, text, x, y, { scale: labelScale, ink });
    return { text, x, y, scale: labelScale };
  });

  return { ...canvas, layout: { columns, rows, cellWidth, cellHeight, gutter, cells, labels } };
}

/**
 * Concatenates batches of images of the same [C, H, W] along the batch axis, e.g. one sampling run
 * per grid row: `stackImageBatches([runC0, runC2])` then `rowLabels: ['c=0', 'c=2']`.
 *
 * @throws LevelskipError `INVALID_SHAPE` when the batches differ in [C, H, W] or a batch's data does not fit its shape.
 */
export function stackImageBatches(
  batches: readonly { readonly images: Float32Array; readonly shape: readonly [number, number, number, number] }[],
): { images: Float32Array; shape: [number, number, number, number] } {
  if (batches.length === 0) throw invalid('stackImageBatches needs at least one batch', 'INVALID_SHAPE');
  const [, c, h, w] = batches[0]!.shape;
  let total = 0;
  for (const [i, batch] of batches.entries()) {
    const [b, ci, hi, wi] = batch.shape;
    if (ci !== c || hi !== h || wi !== w) {
      throw invalid(`batch ${i} has images of [${ci}, ${hi}, ${wi}], batch 0 of [${c}, ${h}, ${w}]; stack images of one shape`, 'INVALID_SHAPE');
    }
    if (batch.images.length !== b * c * h * w) throw invalid(`batch ${i} holds ${batch.images.length} values, its shape needs ${b * c * h * w}`, 'INVALID_SHAPE');
    total += b;
  }
  const images = new Float32Array(total * c * h * w);
  let offset = 0;
  for (const batch of batches) {
    images.set(batch.images, offset);
    offset += batch.images.length;
  }
  return { images, shape: [total, c, h, w] };
}

/** Encodes 8-bit pixels (1 channel: grayscale, 3: RGB, interleaved) as a PNG file's bytes. */
export function encodePng(image: PixelCanvas): Buffer {
  const { width, height, channels, data } = image;
  if (channels !== 1 && channels !== 3) throw invalid(`PNG encoding takes 1 or 3 channels, got ${channels}`, 'INVALID_SHAPE');
  if (data.length !== width * height * channels) throw invalid(`pixel data holds ${data.length} bytes, expected ${width * height * channels}`, 'INVALID_SHAPE');
  const colorType = channels === 1 ? 0 : 2;
  const png = new pngjs.PNG({ width, height, colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return pngjs.PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
}

/** What `writeImageGrid` wrote. */
export interface WrittenImageGrid {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly layout: ImageGridLayout;
}

/**
 * Composes a grid of `input.images` (see `composeImageGrid`) and writes it to `path` as a PNG,
 * atomically (temporary file, fsync, rename), creating the parent directory.
 *
 * @example
 * ```ts
 * const { images, shape } = await sample({ denoiser, sampler: ddim({ steps: 50 }), batch: 16, seed: 0 });
 * await writeImageGrid({ images, shape, columns: 8, rowLabels: ['c=0', 'c=2'], scale: 2 }, 'out/samples.png');
 * ```
 * @throws LevelskipError as `composeImageGrid`, and `IO_ERROR` when the file cannot be written.
 */
export async function writeImageGrid(input: ImageGridInput, path: string): Promise<WrittenImageGrid> {
  const grid = composeImageGrid(input);
  const bytes = encodePng(grid);
  await writeFileAtomic(path, bytes);
  return { path, width: grid.width, height: grid.height, bytes: bytes.length, layout: grid.layout };
}
