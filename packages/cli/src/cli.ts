/**
 * Entry of the `levelskip` executable (bin/levelskip.js imports this build output and calls `run`).
 */
import { installTemporaryFileCleanup } from '@levelskip/core';
import { main } from './program/create-program.js';

export { main };

/** Runs the CLI on `process.argv` and exits with its code once stdout and stderr are flushed. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `levelskip ... | head`: a reader that goes away is not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // A temporary file of an interrupted write is removed on exit (and on a signal nobody handles).
  installTemporaryFileCleanup();
  const code = await main(argv);
  // Open handles of a runtime (worker pools, native threads) must not keep a finished command alive.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}
