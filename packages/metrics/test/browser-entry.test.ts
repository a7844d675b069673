/**
 * The browser entry: the classifier comes from bytes (no file system), and FD-LeNet's reference
 * asks for it instead of reading the shipped file. Same classifier, same features as Node's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelskipError } from '@levelskip/core';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/index-browser.js';
import { lenetWeightsDirectory, loadLenet } from '../src/index.js';

describe('@levelskip/metrics in a browser', () => {
  it('lenetFromSafetensors(bytes) is the shipped classifier', async () => {
    const bytes = await readFile(join(lenetWeightsDirectory(), browser.lenetWeightsFileName));
    const fromBytes = browser.lenetFromSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const images = new Float32Array(3 * 1024).map((_, i) => Math.sin(i * 0.37));
    expect(fromBytes.features(images, 3)).toEqual((await loadLenet()).features(images, 3));
  });

  it('createFdLenetReference without a classifier says what to pass', async () => {
    const set = { images: new Float32Array(2 * 1024), count: 2 };
    const error = await browser.createFdLenetReference({ reference: set, heldOut: set }).catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(/lenetFromSafetensors/);
    expect('loadLenet' in browser || 'loadMnistReference' in browser).toBe(false);
  });
});
