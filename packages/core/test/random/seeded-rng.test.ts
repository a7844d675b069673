import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng, gaussianNoise, type RngState } from '../../src/random/seeded-rng.js';
import { referencePhilox4x32 } from './philox-reference.js';
import { errorOf } from '../support/level-skip-errors.js';

const TWO_32 = 2 ** 32;

/** The documented layout, rebuilt from the BigInt reference: word at `position` of (seed, stream, family). */
function referenceWord(seed: bigint, stream: number, family: 0 | 1, position: number): number {
  const block = Math.floor(position / 4);
  const counter = [block % TWO_32, Math.floor(block / TWO_32), stream % TWO_32, Math.floor(stream / TWO_32) + family * 2 ** 31];
  const key = [Number(seed % 2n ** 32n), Number(seed / 2n ** 32n)];
  return referencePhilox4x32(counter, key)[position % 4] as number;
}

function referenceUniform(seed: bigint, stream: number, position: number): number {
  return (referenceWord(seed, stream, 0, position) + 0.5) / TWO_32;
}

/** Box–Muller as documented: pair (2j, 2j+1) of the normal family; even → cos, odd → sin. */
function referenceNormal(seed: bigint, stream: number, position: number): number {
  const pair = position - (position % 2);
  const u1 = (referenceWord(seed, stream, 1, pair) + 0.5) / TWO_32;
  const u2 = (referenceWord(seed, stream, 1, pair + 1) + 0.5) / TWO_32;
  const r = Math.sqrt(-2 * Math.log(u1));
  return position % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
}


function meanAndVariance(values: ArrayLike<number>): [number, number] {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return [mean, squares / values.length];
}

describe('SeededRng layout', () => {
  it('seed 0, stream 0: the first four uniforms are the all-zero Random123 vector', () => {
    // philox4x32-10(counter 0, key 0) = 6627e8d5 e169c58d bc57ac4c 9b00dbd8 (Random123 kat_vectors)
    const words = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    expect(Array.from(new SeededRng(0).uniform64(4))).toEqual(words.map((u) => (u + 0.5) / TWO_32));
  });

  it.each<[bigint, number]>([
    [0x0123456789abcdefn, 0],
    [42n, 7],
    [2n ** 64n - 1n, 2 ** 40 + 3],
  ])('uniform64 and normal64 follow the documented layout (seed %s, stream %s)', (seed, stream) => {
    const rng = new SeededRng(seed, stream);
    const uniforms = rng.uniform64(9);
    const normals = rng.normal64(7); // positions 9..15: starts on an odd position
    for (let i = 0; i < 9; i++) expect(uniforms[i]).toBe(referenceUniform(seed, stream, i));
    for (let i = 0; i < 7; i++) expect(normals[i]).toBe(referenceNormal(seed, stream, 9 + i));
    expect(rng.state()).toEqual({ seed: seed.toString(), stream, counter: '16' });
  });

  it('long draws of normals, from every start and end parity, across blocks and after uniforms, follow the layout', () => {
    // The bulk path computes a whole pair per iteration and one Philox block per two pairs; the
    // pair cut by an odd start or an even end goes value by value. Each case: (skip, n).
    for (const [skip, n] of [
      [0, 64],
      [1, 64],
      [2, 63],
      [3, 61],
      [5, 1],
      [6, 2],
      [7, 0],
      [4, 257],
    ] as const) {
      const rng = new SeededRng(0xfeedn, 3);
      if (skip > 0) rng.uniform64(skip); // uniforms and normals share the position counter
      const wide = rng.normal64(n);
      const narrow = new SeededRng(0xfeedn, 3);
      if (skip > 0) narrow.uniform64(skip);
      const float32 = narrow.normal(n);
      for (let i = 0; i < n; i++) {
        const expected = referenceNormal(0xfeedn, 3, skip + i);
        expect(wide[i]).toBe(expected);
        expect(float32[i]).toBe(Math.fround(expected));
      }
    }
  });

  it('float32 variants are the float64 values rounded', () => {
    const [a, b] = [new SeededRng(5), new SeededRng(5)];
    expect(Array.from(a.uniform(33))).toEqual(Array.from(b.uniform64(33), (x) => Math.fround(x)));
    expect(Array.from(a.normal(33))).toEqual(Array.from(b.normal64(33), (x) => Math.fround(x)));
  });

  it('a word that would round to 1 in float32 gives the largest float32 below 1', () => {
    // Found by search: seed 2871038's first block has word 2 = 0xffffffa1, so
    // (u + 0.5)/2^32 = 1 - 94.5/2^32 rounds to 1 in float32.
    expect(referenceWord(2871038n, 0, 0, 2)).toBe(0xffffffa1);
    const wide = new SeededRng(2871038).uniform64(4);
    expect(wide[2]).toBe(1 - 94.5 / TWO_32);
    expect(Math.fround(wide[2] as number)).toBe(1);
    expect(new SeededRng(2871038).uniform(4)[2]).toBe(1 - 2 ** -24);
  });
});

describe('SeededRng distributions', () => {
  it('uniforms lie in (0, 1) with mean 1/2 and variance 1/12', () => {
    const rng = new SeededRng(123);
    for (const values of [rng.uniform(100_000), rng.uniform64(100_000)]) {
      expect(values.every((x) => x > 0 && x < 1)).toBe(true);
      const [mean, variance] = meanAndVariance(values);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
      expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.005);
    }
  });

  it('1e5 normals have mean 0 ± 0.02, variance 1 ± 0.02 and uncorrelated neighbours', () => {
    const rng = new SeededRng(2024, 3);
    for (const values of [rng.normal(100_000), rng.normal64(100_000)]) {
      const [mean, variance] = meanAndVariance(values);
      expect(Math.abs(mean)).toBeLessThan(0.02);
      expect(Math.abs(variance - 1)).toBeLessThan(0.02);
      // Box–Muller pairs (cos, sin) must be uncorrelated: lag-1 correlation ≈ 0.
      let lag = 0;
      for (let i = 1; i < values.length; i++) lag += (values[i] as number) * (values[i - 1] as number);
      expect(Math.abs(lag / (values.length - 1))).toBeLessThan(0.02);
      // Tail mass beyond 3σ ≈ 0.27%.
      const tail = values.filter((x) => Math.abs(x) > 3).length / values.length;
      expect(tail).toBeGreaterThan(0.0015);
      expect(tail).toBeLessThan(0.004);
    }
  });

  it('integer(max) is uniform on [0, max) and follows the rejection rule', () => {
    const rng = new SeededRng(9);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const k = rng.integer(10);
      expect(Number.isInteger(k) && k >= 0 && k < 10).toBe(true);
      counts[k] = (counts[k] as number) + 1;
    }
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(200);
    // max = 3: limit = 2^32 - (2^32 mod 3) = 2^32 - 1; accepted words map by u mod 3.
    const fresh = new SeededRng(77);
    for (let i = 0; i < 8; i++) expect(fresh.integer(3)).toBe(referenceWord(77n, 0, 0, i) % 3);
    expect(new SeededRng(77).integer(2 ** 32)).toBe(referenceWord(77n, 0, 0, 0));
    expect(new SeededRng(77).integer(1)).toBe(0);
  });
});

describe('SeededRng determinism, streams and resume', () => {
  it('is deterministic for a seed and stream', () => {
    expect(new SeededRng(1, 2).normal(50)).toEqual(new SeededRng(1, 2).normal(50));
    expect(new SeededRng(1n, 2).uniform(50)).toEqual(new SeededRng(1, 2).uniform(50));
  });

  it('different seeds, streams and kinds give different values', () => {
    const base = new SeededRng(1).normal64(8);
    expect(new SeededRng(2).normal64(8)).not.toEqual(base);
    expect(new SeededRng(1, 1).normal64(8)).not.toEqual(base);
    expect(new SeededRng(2 ** 32 + 1).normal64(8)).not.toEqual(base); // high seed word matters
    // uniforms and normals come from disjoint Philox inputs
    const words = Array.from(new SeededRng(1).uniform64(8));
    const normalWords = Array.from({ length: 8 }, (_, i) => (referenceWord(1n, 0, 1, i) + 0.5) / TWO_32);
    expect(words).not.toEqual(normalWords);
  });

  it('fork(stream) is the same seed on that stream, from its start', () => {
    const rng = new SeededRng(11);
    rng.normal(5);
    expect(rng.fork(4).normal(10)).toEqual(new SeededRng(11, 4).normal(10));
    expect(rng.fork(4).state()).toEqual({ seed: '11', stream: 4, counter: '0' });
  });

  type Kind = 'uniform' | 'uniform64' | 'normal' | 'normal64';
  const draw = (rng: SeededRng, kind: Kind, n: number): number[] => Array.from(rng[kind](n));

  it('drawing n, saving state, then drawing m equals drawing n + m at once (odd counts too)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('uniform', 'uniform64', 'normal', 'normal64'),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 1000 }),
        (kind, n, m, seed) => {
          const first = new SeededRng(seed, 1);
          const head = draw(first, kind, n);
          const saved = JSON.parse(JSON.stringify(first.state())) as RngState;
          const tail = draw(SeededRng.fromState(saved), kind, m);
          expect([...head, ...tail]).toEqual(draw(new SeededRng(seed, 1), kind, n + m));
          // The original generator continues identically, too.
          expect(draw(first, kind, m)).toEqual(tail);
        },
      ),
    );
  });

  it('any mix of draws resumes exactly from a saved state', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constantFrom<Kind>('uniform', 'uniform64', 'normal', 'normal64'), n: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('integer' as const), n: fc.integer({ min: 1, max: 2 ** 32 }) }),
    );
    const run = (rng: SeededRng, o: { kind: Kind | 'integer'; n: number }): number[] =>
      o.kind === 'integer' ? [rng.integer(o.n)] : draw(rng, o.kind, o.n);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 8 }), fc.array(op, { maxLength: 8 }), (before, after) => {
        const rng = new SeededRng(99, 5);
        before.forEach((o) => run(rng, o));
        const resumed = SeededRng.fromState(rng.state());
        expect(after.map((o) => run(resumed, o))).toEqual(after.map((o) => run(rng, o)));
      }),
    );
  });

  it('state() is plain JSON with decimal strings', () => {
    const rng = new SeededRng(2n ** 64n - 1n, 3);
    rng.normal(5);
    rng.uniform(3);
    expect(rng.state()).toEqual({ seed: '18446744073709551615', stream: 3, counter: '8' });
  });
});

describe('SeededRng.normalInto', () => {
  it('fills the buffer with the values normal(n) returns, for odd and even starts and lengths, and advances the position', () => {
    for (const start of [0, 1, 2, 3, 5, 6, 7]) {
      for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 4097, 4099, 9000]) {
        const reference = new SeededRng(31, 2);
        reference.uniform(start);
        const expected = reference.normal(n);
        const rng = new SeededRng(31, 2);
        rng.uniform(start);
        const buffer = new Float32Array(n).fill(Number.NaN);
        expect(rng.normalInto(buffer)).toBe(buffer);
        expect(buffer).toEqual(expected);
        expect(rng.state()).toEqual(reference.state());
        // The next draw continues where normal(n) would.
        expect(rng.normal(3)).toEqual(reference.normal(3));
      }
    }
  });

  it('reusing one buffer gives the consecutive draws (what a sampling loop does)', () => {
    const reused = new SeededRng(8, 1);
    const buffer = new Float32Array(257);
    const fresh = new SeededRng(8, 1);
    for (let step = 0; step < 4; step++) {
      reused.normalInto(buffer);
      expect(buffer).toEqual(fresh.normal(257));
    }
    // Documented layout, independently of normal(): position 4·257 = 1028 is even, so its cosine.
    expect(new SeededRng(8, 1).normalInto(new Float32Array(1029))[1028]).toBe(Math.fround(referenceNormal(8n, 1, 1028)));
  });

  it.each<[string, unknown]>([
    ['a Float64Array', new Float64Array(4)],
    ['an array', [0, 0, 0]],
    ['a number', 4],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s with INVALID_OPTION naming out', (_name, out) => {
    const rng = new SeededRng(1);
    const error = errorOf(() => rng.normalInto(out as Float32Array));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('normalInto(out): out must be a Float32Array');
    expect(rng.state().counter).toBe('0');
  });
});

describe('gaussianNoise', () => {
  it('is the first ∏shape normals of (seed, stream)', () => {
    const noise = gaussianNoise(7, [2, 3, 4], 1);
    expect(noise).toBeInstanceOf(Float32Array);
    expect(noise).toHaveLength(24);
    expect(noise).toEqual(new SeededRng(7, 1).normal(24));
    expect(gaussianNoise(7, [])).toHaveLength(1);
    expect(gaussianNoise(7, [0, 5])).toHaveLength(0);
  });

  it('rejects bad shapes with INVALID_SHAPE', () => {
    expect(errorOf(() => gaussianNoise(7, [2, -1])).code).toBe('INVALID_SHAPE');
    expect(errorOf(() => gaussianNoise(7, [2.5])).code).toBe('INVALID_SHAPE');
  });
});

describe('SeededRng validation', () => {
  it.each<[string, () => unknown, string]>([
    ['negative seed', () => new SeededRng(-1), 'seed must be'],
    ['fractional seed', () => new SeededRng(1.5), 'seed must be'],
    ['unsafe seed', () => new SeededRng(2 ** 53), 'seed must be'],
    ['bigint seed ≥ 2^64', () => new SeededRng(2n ** 64n), 'seed must be'],
    ['negative bigint seed', () => new SeededRng(-1n), 'seed must be'],
    ['negative stream', () => new SeededRng(1, -1), 'stream must be'],
    ['fractional count', () => new SeededRng(1).normal(1.5), 'number of values'],
    ['negative count', () => new SeededRng(1).uniform(-1), 'number of values'],
    ['integer(0)', () => new SeededRng(1).integer(0), 'maxExclusive'],
    ['integer(2^32 + 1)', () => new SeededRng(1).integer(2 ** 32 + 1), 'maxExclusive'],
    ['state seed not decimal', () => SeededRng.fromState({ seed: '0x10', stream: 0, counter: '0' }), 'seed must be a decimal string'],
    ['state seed too big', () => SeededRng.fromState({ seed: (2n ** 64n).toString(), stream: 0, counter: '0' }), 'seed must be'],
    ['state counter', () => SeededRng.fromState({ seed: '1', stream: 0, counter: '-1' }), 'counter must be'],
    ['state counter too big', () => SeededRng.fromState({ seed: '1', stream: 0, counter: '9007199254740993' }), 'counter must be'],
    ['state stream', () => SeededRng.fromState({ seed: '1', stream: 0.5, counter: '0' }), 'stream must be'],
    ['state null', () => SeededRng.fromState(null as unknown as RngState), 'expected { seed, stream, counter }'],
  ])('rejects %s with INVALID_OPTION', (_name, call, fragment) => {
    const error = errorOf(call);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain(fragment);
  });
});
