/**
 * zlib streams (RFC 1950) for PNG's IDAT data: deflated by the platform's
 * `CompressionStream('deflate')` (browsers, Node ≥ 18, Deno, Bun), or, where a runtime lacks it,
 * written as stored (uncompressed) deflate blocks, which every PNG decoder reads too.
 */

/** The part of the WHATWG streams API used here, so no DOM or Node typings are needed. */
interface ByteTransform {
  readonly writable: { getWriter(): { write(chunk: Uint8Array): Promise<void>; close(): Promise<void> } };
  readonly readable: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } };
}
type CompressionStreamConstructor = new (format: 'deflate') => ByteTransform;

/** How `zlibCompress` encodes: `deflate` (CompressionStream where present) or `store` (no compression). */
export type ZlibMode = 'deflate' | 'store';

/** Adler-32 of `bytes` (RFC 1950 §8.2), the checksum that ends a zlib stream. */
export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 is the most bytes that cannot overflow b before the modulo (zlib's NMAX).
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(start + 5552, bytes.length);
    for (let i = start; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored deflate blocks (RFC 1951 §3.2.4: BTYPE 00, at most 65,535 bytes each). */
export function zlibStore(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const blocks = Math.max(1, Math.ceil(bytes.length / 65_535));
  const out = new Uint8Array(2 + blocks * 5 + bytes.length + 4);
  // CMF = 0x78 (deflate, 32 KiB window), FLG = 0x01 (no dictionary; (CMF·256 + FLG) % 31 = 0).
  out[0] = 0x78;
  out[1] = 0x01;
  let at = 2;
  for (let block = 0; block < blocks; block++) {
    const start = block * 65_535;
    const length = Math.min(65_535, bytes.length - start);
    out[at] = block === blocks - 1 ? 1 : 0;
    out[at + 1] = length & 0xff;
    out[at + 2] = length >>> 8;
    out[at + 3] = ~length & 0xff;
    out[at + 4] = (~length >>> 8) & 0xff;
    out.set(bytes.subarray(start, start + length), at + 5);
    at += 5 + length;
  }
  new DataView(out.buffer).setUint32(at, adler32(bytes));
  return out;
}

async function deflate(Stream: CompressionStreamConstructor, bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Stream('deflate');
  const writer = stream.writable.getWriter();
  // Written while the output is read, so backpressure cannot stall the stream.
  const written = writer.write(bytes).then(() => writer.close());
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value !== undefined) {
      chunks.push(value);
      length += value.length;
    }
  }
  await written;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** `bytes` as a zlib stream: deflated where the runtime has `CompressionStream`, else stored. */
export async function zlibCompress(bytes: Uint8Array, mode: ZlibMode = 'deflate'): Promise<Uint8Array<ArrayBuffer>> {
  const Stream = (globalThis as { CompressionStream?: CompressionStreamConstructor }).CompressionStream;
  return mode === 'deflate' && Stream !== undefined ? deflate(Stream, bytes) : zlibStore(bytes);
}
