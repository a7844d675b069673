/**
 * CRC-32 as PNG chunks carry it (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320, initial
 * value and final XOR 0xFFFFFFFF; PNG specification §5.5), table-driven, one byte at a time.
 */
const table = /* @__PURE__ */ (() => {
  const entries = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    entries[n] = c >>> 0;
  }
  return entries;
})();

/** CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before them; default: none). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = (table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return (c ^ 0xffffffff) >>> 0;
}
