/**
 * The strict JSON front end: the same language as JSON.parse (RFC 8259), plus duplicate keys and
 * deep nesting refused, and positions instead of quoted text in every message.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkStrictJson, parseStrictJson, StrictJsonError } from '../../src/checkpoint/strict-json.js';

const options = { maxDepth: 1000 };

function fault(text: string, maxDepth = 1000): StrictJsonError {
  try {
    checkStrictJson(text, { maxDepth });
  } catch (error) {
    if (error instanceof StrictJsonError) return error;
    throw error;
  }
  throw new Error('expected a StrictJsonError');
}

describe('checkStrictJson accepts exactly what JSON.parse accepts, less duplicate keys', () => {
  it('valid JSON of every kind', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (text) => {
        expect(parseStrictJson(text, options)).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated JSON: rejected exactly when JSON.parse rejects it', () => {
    const pieces = fc.constantFrom('"', '\\', '\\u', '\\u00e9', '\\x', '{', '}', '[', ']', ':', ',', '-', '.', 'e', '+', '0', '01', 'tru', 'null', ' ', '\n', '\t', '\u0001', '\u2028', 'é', '\ud83d\ude00');
    fc.assert(
      fc.property(fc.json({ depthSize: 'small' }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), pieces), { minLength: 1, maxLength: 3 }), (json, edits) => {
        let text = json;
        for (const [at, remove, piece] of edits) {
          const k = at % (text.length + 1);
          text = text.slice(0, k) + piece + text.slice(k + remove);
        }
        let native = true;
        try {
          JSON.parse(text);
        } catch {
          native = false;
        }
        let strict = true;
        try {
          checkStrictJson(text, options);
        } catch (error) {
          if (!(error instanceof StrictJsonError)) throw error;
          // Only a duplicate key may make strict reject what JSON.parse accepts.
          if (native && !/duplicate key/.test(error.reason)) throw new Error(`strict rejected valid JSON: ${error.message}`);
          strict = false;
        }
        if (strict) expect(native).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('faults are reported by position, never by quoting the text', () => {
  it.each([
    ['', 'no JSON value', 1, 1],
    ['root:x:0:0:root', 'unexpected character where a value was expected', 1, 1],
    ['{"a": 1,\n  "b" 2}', "':' was expected", 2, 7],
    ['{"a": [1, 2}', "',' or ']' was expected", 1, 12],
    ['{"a": "x\u0001"}', 'unescaped control character U+0001', 1, 9],
    ['{"a": "\\q"}', 'invalid escape', 1, 8],
    ['{"a": "\\u12G4"}', 'invalid \\u escape', 1, 8],
    ['[01]', "',' or ']' was expected", 1, 3],
    ['[1.]', 'a digit must follow the decimal point', 1, 2],
    ['[1e+]', 'a digit must follow the exponent', 1, 2],
    ['{"a": "abc', 'unterminated string', 1, 7],
    ['[1, 2', 'unexpected end of the text', 1, 6],
    ['{} {}', 'after the end of the JSON value', 1, 4],
    ['{"a": 1, "a": 2}', 'duplicate key "a"', 1, 10],
    ['{"é": 1, "\\u00e9": 2}', 'duplicate key "é"', 1, 10],
    ['{"x": {"k": 1}, "y": {"k": 2, "\\u006b": 3}}', 'duplicate key "k"', 1, 31],
  ])('%j: %s at line %i, column %i', (text, reason, line, column) => {
    const error = fault(text);
    expect(error.reason).toContain(reason);
    expect(error.line).toBe(line);
    expect(error.column).toBe(column);
    expect(error.message).toMatch(new RegExp(`at line ${line}, column ${column} \\(character ${error.offset}\\)$`));
    expect(error.message).not.toContain('root');
  });

  it('bounds the nesting depth before anything recursive runs', () => {
    expect(fault('[[[1]]]', 2).reason).toBe('nesting deeper than 2 levels of objects and arrays');
    expect(() => checkStrictJson('[[1]]', { maxDepth: 2 })).not.toThrow();
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(fault(deep, 64).offset).toBe(64);
  });

  it('keys that only look alike are distinct; the same key in sibling objects is fine', () => {
    expect(parseStrictJson('{"a": 1, "A": 2, "a ": 3, "\\u0062": 4}', options)).toEqual({ a: 1, A: 2, 'a ': 3, b: 4 });
    expect(parseStrictJson('[{"k": 1}, {"k": 2}]', options)).toEqual([{ k: 1 }, { k: 2 }]);
    const many = `{${Array.from({ length: 100 }, (_, i) => `"k${i}": ${i}`).join(', ')}}`;
    expect(Object.keys(parseStrictJson(many, options) as object)).toHaveLength(100);
    expect(fault(many.replace('"k99"', '"k7"')).reason).toBe('duplicate key "k7" (JSON would keep only the last value; remove one)');
  });
});
