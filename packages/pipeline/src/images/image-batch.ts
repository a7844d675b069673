/**
 * Sampled images and what a program does with them next: the float32 NCHW samples in [−1, 1] as
 * `sample()` returns them, plus 8-bit greyscale, RGBA, `ImageData` (browsers), PNG files (browsers
 * and Node) and a grid of them all. Pixel values map as the CLI's PNG grids do:
 * byte = round((v + 1) · 127.5), clamped to [0, 255], NaN ↦ 0.
 */
import { LevelskipError } from '@levelskip/core';
import { encodePng, type EncodePngOptions, type PixelImage } from './png-encoder.js';

/** The shape of the DOM's `ImageData` that `toImageData` fills. */
export interface ImageDataLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** The DOM's `ImageData` where the program's types have it (lib "dom"), else `ImageDataLike`. */
export type ImageDataType = typeof globalThis extends { ImageData: { prototype: infer D } } ? D : ImageDataLike;

/** How `toGrid` lays the images out. */
export interface ImageGridOptions {
  /** Images per row (default min(count, 8)). */
  readonly columns?: number;
  /** Pixels between images and around the grid (default 2). */
  readonly gap?: number;
  /** Grey level of the gaps, 0–255 (default 255, white). */
  readonly background?: number;
  /** Integer upscaling of each image, nearest neighbour (default 1). */
  readonly scale?: number;
}

/** A batch of images with conversions. Every `index` is 0-based, below `count`. */
export interface ImageBatch {
  /** The samples, float32 NCHW in [−1, 1] (as `sample()` returns them). */
  readonly images: Float32Array;
  /** [count, channels, height, width]. */
  readonly shape: readonly [number, number, number, number];
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Image `index` as float32 CHW: a view into `images`, not a copy. */
  image(index: number): Float32Array;
  /** Image `index` as height · width grey bytes (RGB images: BT.601 luma). */
  toGreyscale(index: number): Uint8ClampedArray<ArrayBuffer>;
  /** Image `index` as height · width · 4 RGBA bytes (opaque), the layout of `ImageData` and canvases. */
  toRGBA(index: number): Uint8ClampedArray<ArrayBuffer>;
  /**
   * Image `index` as an `ImageData`, for `context.putImageData` or `createImageBitmap`.
   * @throws LevelskipError `UNSUPPORTED` where there is no `ImageData` (Node): use `toRGBA` or `toPNG`.
   */
  toImageData(index: number): ImageDataType;
  /** Image `index` as a PNG file's bytes (8-bit greyscale or RGB). */
  toPNG(index: number, options?: EncodePngOptions): Promise<Uint8Array<ArrayBuffer>>;
  /** Every image on one canvas: greyscale for 1-channel images, else RGB. */
  toGrid(options?: ImageGridOptions): PixelImage;
  /** `toGrid(options)` as a PNG file's bytes. */
  toGridPNG(options?: ImageGridOptions & EncodePngOptions): Promise<Uint8Array<ArrayBuffer>>;
}

/** round((v + 1) · 127.5) clamped to [0, 255]; NaN ↦ 0. */
export function toByte(value: number): number {
  const v = Math.round((value + 1) * 127.5);
  return v >= 255 ? 255 : v > 0 ? v : 0;
}

function invalid(field: string, message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `images: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw invalid(field, `must be an integer in [${min}, ${max}], got ${String(value)}`);
}

class Images implements ImageBatch {
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;

  constructor(images: Float32Array, shape: readonly [number, number, number, number]) {
    this.images = images;
    this.shape = shape;
    [this.count, this.channels, this.height, this.width] = shape;
  }

  private checkIndex(index: number): number {
    return integerIn('index', index, 0, this.count - 1);
  }

  /** Bytes of image `index`, CHW. */
  private bytes(index: number): Uint8Array {
    if (this.channels !== 1 && this.channels !== 3) {
      throw invalid('channels', `is ${this.channels}: the pixel conversions take 1 (greyscale) or 3 (RGB) channels; read .images (float32 NCHW) instead`, 'INVALID_SHAPE');
    }
    const plane = this.channels * this.height * this.width;
    const start = this.checkIndex(index) * plane;
    const out = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) out[i] = toByte(this.images[start + i]!);
    return out;
  }

  image(index: number): Float32Array {
    const plane = this.channels * this.height * this.width;
    const start = this.checkIndex(index) * plane;
    return this.images.subarray(start, start + plane);
  }

  toGreyscale(index: number): Uint8ClampedArray<ArrayBuffer> {
    const bytes = this.bytes(index);
    const pixels = this.height * this.width;
    const out = new Uint8ClampedArray(pixels);
    if (this.channels === 1) out.set(bytes);
    else for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * bytes[p]! + 0.587 * bytes[pixels + p]! + 0.114 * bytes[2 * pixels + p]!);
    return out;
  }

  toRGBA(index: number): Uint8ClampedArray<ArrayBuffer> {
    const bytes = this.bytes(index);
    const pixels = this.height * this.width;
    const out = new Uint8ClampedArray(pixels * 4);
    const green = this.channels === 1 ? 0 : pixels;
    const blue = this.channels === 1 ? 0 : 2 * pixels;
    for (let p = 0; p < pixels; p++) {
      out[4 * p] = bytes[p]!;
      out[4 * p + 1] = bytes[green + p]!;
      out[4 * p + 2] = bytes[blue + p]!;
      out[4 * p + 3] = 255;
    }
    return out;
  }

  toImageData(index: number): ImageDataType {
    const ImageData = (globalThis as { ImageData?: new (data: Uint8ClampedArray, width: number, height: number) => unknown }).ImageData;
    if (typeof ImageData !== 'function') {
      throw new LevelskipError('UNSUPPORTED', 'images: toImageData needs the ImageData class of a browser or worker; in Node use toRGBA(index) (the same bytes) or toPNG(index)');
    }
    return new ImageData(this.toRGBA(index), this.width, this.height) as ImageDataType;
  }

  /** Image `index` as interleaved pixels (HWC). */
  private pixels(index: number): PixelImage {
    const bytes = this.bytes(index);
    if (this.channels === 1) return { width: this.width, height: this.height, channels: 1, data: bytes };
    const pixels = this.height * this.width;
    const data = new Uint8Array(pixels * 3);
    for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) data[3 * p + c] = bytes[c * pixels + p]!;
    return { width: this.width, height: this.height, channels: 3, data };
  }

  toPNG(index: number, options: EncodePngOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return encodePng(this.pixels(index), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  toGrid(options: ImageGridOptions = {}): PixelImage {
    const columns = integerIn('columns', options.columns ?? Math.min(this.count, 8), 1, 65_536);
    const gap = integerIn('gap', options.gap ?? 2, 0, 1024);
    const background = integerIn('background', options.background ?? 255, 0, 255);
    const scale = integerIn('scale', options.scale ?? 1, 1, 64);
    const rows = Math.ceil(this.count / columns);
    const cellWidth = this.width * scale;
    const cellHeight = this.height * scale;
    const width = gap + columns * (cellWidth + gap);
    const height = gap + rows * (cellHeight + gap);
    if (width * height > 1 << 28) throw invalid('columns', `and scale make a ${width}×${height} grid, above 2^28 pixels; use a smaller scale`);
    const channels = this.channels === 1 ? 1 : 3;
    const data = new Uint8Array(width * height * channels).fill(background);
    for (let i = 0; i < this.count; i++) {
      const image = this.pixels(i);
      const left = gap + (i % columns) * (cellWidth + gap);
      const top = gap + Math.floor(i / columns) * (cellHeight + gap);
      for (let y = 0; y < cellHeight; y++) {
        const source = Math.floor(y / scale) * this.width;
        const target = ((top + y) * width + left) * channels;
        for (let x = 0; x < cellWidth; x++) {
          const from = (source + Math.floor(x / scale)) * channels;
          for (let c = 0; c < channels; c++) data[target + x * channels + c] = image.data[from + c]!;
        }
      }
    }
    return { width, height, channels, data };
  }

  toGridPNG(options: ImageGridOptions & EncodePngOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return encodePng(this.toGrid(options), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Wraps float32 NCHW samples (e.g. `sample()`'s `{ images, shape }`) with the conversions.
 *
 * @throws LevelskipError `INVALID_SHAPE` when `shape` is not four positive integers or `images`
 *   does not hold their product of values.
 *
 * @example
 * ```ts
 * const batch = imageBatch(await sample({ denoiser, sampler: ddim(), batch: 4, seed: 0 }));
 * const png = await batch.toPNG(0);
 * ```
 */
export function imageBatch(samples: { readonly images: Float32Array; readonly shape: readonly number[] }): ImageBatch {
  const { images, shape } = samples;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw invalid('shape', `must be [count, channels, height, width] with positive integers, got ${JSON.stringify(shape)}`, 'INVALID_SHAPE');
  }
  const size = shape.reduce((n, d) => n * d, 1);
  if (!(images instanceof Float32Array) || images.length !== size) {
    throw invalid('images', `must be a Float32Array of ${size} values for shape [${shape.join(', ')}], got ${images instanceof Float32Array ? images.length : typeof images}`, 'INVALID_SHAPE');
  }
  return new Images(images, [shape[0]!, shape[1]!, shape[2]!, shape[3]!]);
}
