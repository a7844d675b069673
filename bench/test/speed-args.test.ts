/**
 * `pnpm bench speed --fills`: the choices are core's fill registry, so every built-in fill (mean
 * included) is accepted and the default runs them all.
 */
import { builtinFillKinds } from '@levelskip/core';
import { describe, expect, it } from 'vitest';
import { fills, parseSpeedArgs } from '../lib/args.mjs';

describe('speed bench --fills', () => {
  it('takes every built-in fill of the registry, and all of them by default', () => {
    expect(fills).toEqual([...builtinFillKinds]);
    expect(parseSpeedArgs(['--fills', 'mean,zero'], 'test').fills).toEqual(['mean', 'zero']);
    expect(parseSpeedArgs([], 'test').fills).toEqual([...builtinFillKinds]);
  });

  it('rejects a fill the registry does not define, listing those it does', () => {
    expect(() => parseSpeedArgs(['--fills', 'blur'], 'test')).toThrow(/--fills: unknown value "blur"; use zero, duplicate, interpolate, cache, mean/);
  });
});
