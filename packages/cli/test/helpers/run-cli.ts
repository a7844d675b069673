/**
 * Runs the built `levelskip` executable (bin/levelskip.js → dist/cli.js) in a child process, as a
 * user would, and captures its exit code, stdout and stderr.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = join(packageRoot, 'bin', 'levelskip.js');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Fails when dist/ is missing or older than src/, so integration tests never test stale code. */
export function assertBuilt(): void {
  const cli = join(packageRoot, 'dist', 'cli.js');
  let built: number;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    throw new Error(`${cli} is missing: run \`pnpm --filter @levelskip/cli build\` before the integration tests`);
  }
  if (newestMtime(join(packageRoot, 'src')) > built) {
    throw new Error('packages/cli/dist is older than src/: run `pnpm --filter @levelskip/cli build` before the integration tests');
  }
}

/** Runs `levelskip ...args`; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], options: { readonly env?: Record<string, string>; readonly timeoutMs?: number; readonly cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [binPath, ...args],
      {
        cwd: options.cwd ?? packageRoot,
        env: { ...process.env, LEVELSKIP_DEBUG: '', ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof (error as { code?: unknown }).code !== 'number' && (error as { signal?: unknown }).signal == null) {
          reject(error);
          return;
        }
        const code = error === null ? 0 : ((error as { code?: number }).code ?? null);
        resolve({ code, signal: (error as { signal?: NodeJS.Signals } | null)?.signal ?? null, stdout, stderr });
      },
    );
  });
}
