/**
 * The training data of train-tfjs's tests: `count` images of a spec's shape, uniform in [-1, 1)
 * (2u − 1 for the float32 uniforms u of `new SeededRng(seed)`), NCHW. One definition, so every
 * test file trains on the same kind of data and a change to it is made once.
 */
import { SeededRng, type UNetSpec } from '@levelskip/core';
import type { InMemoryDataset } from '../../src/index.js';

export function randomImages(spec: Pick<UNetSpec, 'inChannels' | 'imageSize'>, count: number, seed = 5): InMemoryDataset & { shape: number[] } {
  const { inChannels, imageSize } = spec;
  const images = new SeededRng(seed).uniform(count * inChannels * imageSize * imageSize).map((v) => 2 * v - 1);
  return { images, count, shape: [count, inChannels, imageSize, imageSize] };
}
