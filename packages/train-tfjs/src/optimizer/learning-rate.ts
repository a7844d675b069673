/**
 * Linear learning-rate warm-up (Goyal et al., "Accurate, Large Minibatch SGD", 2017, §2.2):
 * the rate grows linearly over the first `warmup` steps and then stays at `lr`,
 *
 *   lr_s = lr · min(1, s / warmup)   for the 1-based step s (warmup = 0: lr_s = lr).
 */

/** The learning rate of 1-based step `step`. */
export function warmupLearningRate(step: number, lr: number, warmup: number): number {
  if (warmup <= 0) return lr;
  return lr * Math.min(1, step / warmup);
}
