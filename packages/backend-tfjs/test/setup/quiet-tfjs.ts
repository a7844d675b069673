/**
 * Keeps tfjs's own console output out of test logs: the cpu engine's "Hi, looks like you are
 * running TensorFlow.js in Node.js" banner and its backend-initialisation warnings (the tests
 * check levelskip's errors, which carry those causes). tfjs's `PROD` flag gates exactly its
 * logging in tfjs 4.x; test/engine/cpu-banner.test.ts turns it off to see the banner.
 */
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);
