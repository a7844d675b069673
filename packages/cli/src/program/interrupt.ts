/**
 * Ctrl-C (SIGINT) and SIGTERM for long commands: the first signal aborts the work through an
 * `AbortSignal` (sampling and training stop after the current step, training writing a
 * checkpoint); a second one exits at once with code 130.
 */
import type { CliIo } from './cli-io.js';
import { exitCodes } from './exit-codes.js';

/** Runs `work` with an `AbortSignal` that SIGINT / SIGTERM fire; the handlers are removed afterwards. */
export async function withInterrupt<T>(io: CliIo, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      io.stderr.write(`\nlevelskip: ${name} again, exiting now\n`);
      process.exit(exitCodes.interrupted);
    }
    io.stderr.write(`\nlevelskip: ${name}: stopping ${what} after the current step (press Ctrl-C again to quit at once)\n`);
    controller.abort(new Error(`${name} received`));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const name of signals) process.on(name, onSignal);
  try {
    return await work(controller.signal);
  } finally {
    for (const name of signals) process.off(name, onSignal);
  }
}
