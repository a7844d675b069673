import assert from 'node:assert/strict';
import { fdLenet, loadMnistReference, loadMnistReferenceImages } from '../src/index.js';

// The real side, computed once per process (needs the optional peer package `mnist`): the
// statistics of the reference half R of MNIST and the features of the held-out half H.
const reference = await loadMnistReference();

// In practice: `const { images } = await sample({ denoiser, sampler, batch: 1000, seed: 0, ... })`
// with a levelskip model for the mnistSmall preset (NCHW 1×32×32 in [-1, 1]). Here, a stand-in:
// 1,000 real held-out digits with a little pixel noise.
const { heldOut } = await loadMnistReferenceImages();
const count = 1000;
const generated = heldOut.images.slice(3000 * 1024, (3000 + count) * 1024).map((v, i) => v + 0.2 * Math.sin(i * 12.9898));

// FD-LeNet of the batch, and the real-vs-real floor at the same n (FD shrinks as n grows,
// so compare scores only at equal n, and against the floor).
// The floor averages FD over disjoint blocks of n real held-out digits; min–max shows its spread.
const { fd, floor } = fdLenet({ generated, count, reference });
assert.ok(floor !== null && fd > floor.max);
console.log(`FD-LeNet@${count} = ${fd.toFixed(2)} (real-vs-real floor ${floor.mean.toFixed(2)}, ${floor.min.toFixed(2)}–${floor.max.toFixed(2)})`);

// The classifier itself: which digits did the generator draw?
const digits = reference.lenet.classify(generated, count);
const histogram = Array.from({ length: 10 }, (_, d) => digits.filter((x) => x === d).length);
assert.equal(histogram.reduce((a, b) => a + b), count);
