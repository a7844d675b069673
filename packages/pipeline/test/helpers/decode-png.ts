/** An independent PNG reader for the tests: node:zlib inflates IDAT and checks every chunk's CRC. */
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { expect } from 'vitest';
import type { PixelImage } from '../../src/index.js';

/** Chunks of a PNG file, each CRC checked with node:zlib's CRC-32. */
function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    expect(view.getUint32(at + 8 + length), `CRC of ${type}`).toBe(zlibCrc32(png.subarray(at + 4, at + 8 + length)));
    out.push({ type, data });
    at += 12 + length;
  }
  return out;
}

/** Decodes an 8-bit, non-interlaced PNG whose rows all use filter 0 (what the encoder writes). */
export function decodePng(png: Uint8Array): PixelImage {
  const parts = chunks(png);
  expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const header = new DataView(parts[0]!.data.buffer, parts[0]!.data.byteOffset, 13);
  const width = header.getUint32(0);
  const height = header.getUint32(4);
  expect(header.getUint8(8)).toBe(8);
  const channels = ({ 0: 1, 2: 3, 6: 4 } as const)[header.getUint8(9) as 0 | 2 | 6];
  const raw = inflateSync(parts[1]!.data);
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    data.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, data };
}
