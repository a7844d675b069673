/**
 * A small PNG encoder (PNG specification, 3rd edition: signature, IHDR, one IDAT, IEND) for 8-bit
 * greyscale, RGB and RGBA images, with filter type 0 on every row and the pixel data deflated by
 * the platform's `CompressionStream` (see `zlib-stream.ts`). No Node built-in, so it runs in
 * browsers and Node alike.
 */
import { LevelskipError } from '@levelskip/core';
import { crc32 } from './crc32.js';
import { zlibCompress, type ZlibMode } from './zlib-stream.js';

/** 8-bit pixels, row-major, `channels` interleaved bytes per pixel (1 grey, 3 RGB, 4 RGBA). */
export interface PixelImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export interface EncodePngOptions {
  /** `deflate` (default; stored blocks where the runtime has no `CompressionStream`) or `store`: no compression. */
  readonly compression?: ZlibMode;
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** PNG colour types (IHDR) by channel count. */
const colourTypes = { 1: 0, 3: 2, 4: 6 } as const;

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * The PNG file of `image`.
 *
 * @throws LevelskipError `INVALID_SHAPE` when the size is not positive integers (at most 2^31 − 1),
 *   the channel count is not 1, 3 or 4, or `data` does not hold width · height · channels bytes.
 */
export async function encodePng(image: PixelImage, options: EncodePngOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const { width, height, channels, data } = image;
  const sizeOk = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= 0x7fffffff;
  if (!sizeOk(width) || !sizeOk(height)) throw new LevelskipError('INVALID_SHAPE', `PNG: width and height must be integers in [1, 2^31 − 1], got ${width}×${height}`);
  if (!(channels in colourTypes)) throw new LevelskipError('INVALID_SHAPE', `PNG: channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new LevelskipError('INVALID_SHAPE', `PNG: pixel data holds ${data.length} bytes, expected width · height · channels = ${stride * height}`);
  }
  // Each scanline: filter type 0 (None), then its bytes.
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = colourTypes[channels];
  // compression 0 (deflate), filter method 0, no interlace: bytes 10–12 stay 0.
  const parts = [Uint8Array.from(signature), chunk('IHDR', header), chunk('IDAT', await zlibCompress(raw, options.compression)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
