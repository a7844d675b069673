/**
 * The PNG encoder against an independent decoder: node:zlib inflates IDAT and computes the chunk
 * CRCs; the checksums' golden values are the published check values of CRC-32 and Adler-32.
 */
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, type PixelImage } from '../src/index.js';
import { adler32, zlibStore } from '../src/images/zlib-stream.js';
import { decodePng } from './helpers/decode-png.js';

describe('checksums', () => {
  it('CRC-32 of "123456789" is the check value 0xCBF43926, and agrees with node:zlib', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32(bytes)).toBe(0xcbf43926);
    const random = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251);
    expect(crc32(random)).toBe(zlibCrc32(random));
    expect(crc32(random.subarray(500), crc32(random.subarray(0, 500)))).toBe(crc32(random));
  });

  it('Adler-32 of "Wikipedia" is 0x11E60398; stored zlib streams inflate back', () => {
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
    for (const length of [0, 1, 65_535, 65_536, 200_000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
      expect(Buffer.compare(inflateSync(zlibStore(bytes)), bytes), `${length} bytes`).toBe(0);
    }
  });
});

describe('encodePng', () => {
  const image = (channels: 1 | 3 | 4, width: number, height: number): PixelImage => ({
    width,
    height,
    channels,
    data: Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) & 0xff),
  });

  it.each([1, 3, 4] as const)('%i-channel images decode to the same pixels, deflated and stored', async (channels) => {
    const input = image(channels, 13, 7);
    for (const compression of ['deflate', 'store'] as const) {
      const decoded = decodePng(await encodePng(input, { compression }));
      expect(decoded).toEqual({ width: 13, height: 7, channels, data: input.data });
    }
  });

  it('deflates (a flat image compresses far below its raw size)', async () => {
    const flat = { width: 256, height: 256, channels: 1 as const, data: new Uint8Array(256 * 256).fill(200) };
    const png = await encodePng(flat);
    expect(png.length).toBeLessThan(2000);
    expect(decodePng(png).data).toEqual(flat.data);
  });

  it('refuses sizes, channel counts and data lengths that do not fit', async () => {
    await expect(encodePng({ width: 0, height: 1, channels: 1, data: new Uint8Array(0) })).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
    await expect(encodePng({ width: 1, height: 1, channels: 2 as 1, data: new Uint8Array(2) })).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
    await expect(encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).rejects.toThrow(/holds 3 bytes, expected .* 4/);
  });
});
