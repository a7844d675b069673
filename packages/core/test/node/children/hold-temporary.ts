/**
 * Child of the temporary-file tests: starts an atomic write to argv[2] and stalls in the middle,
 * with the temporary file on disk, printing `ready <temporary path>`. argv[3]: `install` calls
 * installTemporaryFileCleanup(); `install-graceful` also adds the program's own SIGINT handler
 * (which exits normally); anything else leaves signal handling alone.
 */
import { writeFile } from 'node:fs/promises';
import { installTemporaryFileCleanup, withTemporaryPath } from '../../../src/node/temporary-files.js';

const [target, mode] = process.argv.slice(2);
if (target === undefined) throw new Error('usage: hold-temporary <target> [install|install-graceful|none]');
if (mode === 'install' || mode === 'install-graceful') installTemporaryFileCleanup();
if (mode === 'install-graceful') process.on('SIGINT', () => process.exit(0));
setInterval(() => {}, 1000);
await withTemporaryPath(target, async (temporary) => {
  await writeFile(temporary, 'half of it');
  process.stdout.write(`ready ${temporary}\n`);
  await new Promise(() => {});
});
