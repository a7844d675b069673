/**
 * Keeps tfjs's own console output out of test logs (the cpu engine's "Hi, looks like you are
 * running TensorFlow.js in Node.js" banner and its backend-initialisation warnings), as
 * backend-tfjs's tests do: tfjs's `PROD` flag gates exactly its logging in tfjs 4.x. This package
 * and backend-tfjs share one tfjs module instance, so the flag covers both.
 */
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);
