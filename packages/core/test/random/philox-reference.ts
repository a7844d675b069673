/**
 * An independent Philox4x32 for tests, written straight from Salmon et al. (SC'11) with BigInt
 * arithmetic (exact 64-bit products) and Random123's key schedule order (bump the key, then
 * round), so it shares no code or tricks with src/random/philox.ts.
 */
const MASK = 0xffffffffn;

export function referencePhilox4x32(counter: readonly number[], key: readonly number[], rounds = 10): number[] {
  let [x0, x1, x2, x3] = counter.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  const round = (): void => {
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [(p1 >> 32n) ^ x1 ^ k0, p1 & MASK, (p0 >> 32n) ^ x3 ^ k1, p0 & MASK];
  };
  round();
  for (let r = 1; r < rounds; r++) {
    k0 = (k0 + 0x9e3779b9n) & MASK;
    k1 = (k1 + 0xbb67ae85n) & MASK;
    round();
  }
  return [x0, x1, x2, x3].map(Number);
}
