import assert from 'node:assert/strict';
import { importMnist, loadMnist, mnistImages, mnistTestPerDigit } from '../src/index.js';

// The first 1,000 training digits, class-interleaved (0, 1, …, 9, 0, 1, …): [1000, 1, 32, 32] in [-1, 1].
const train = await loadMnist({ count: 1000 });
assert.deepEqual(train.shape, [1000, 1, 32, 32]);
assert.deepEqual([...train.labels.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
assert.equal(train.images[0], -1); // the 2-pixel padding is background

// The test split: the last 100 samples of each digit, never in `train`.
const test = await loadMnist({ split: 'test' });
assert.equal(test.count, 10 * mnistTestPerDigit);

// Any samples you choose, prepared the same way: sample 0 of digit 7 and sample 3 of digit 1.
const chosen = mnistImages(await importMnist(), [[7, 0], [1, 3]]);
assert.deepEqual([...chosen.labels], [7, 1]);
console.log(`${train.count} training digits, ${test.count} test digits`);
