/**
 * The `levelskip` program: commander with every command of `src/commands/index.ts`, errors turned
 * into one line on stderr and an exit code (see `exit-codes.ts`) instead of `process.exit`.
 */
import { Command, CommanderError } from 'commander';
import { commands } from '../commands/index.js';
import { cliVersion } from '../version.js';
import { processIo, type CliIo } from './cli-io.js';
import type { CommandContext } from './cli-command.js';
import { errorLine, exitCodeOf, exitCodes } from './exit-codes.js';

/** Builds the program; `context.setExitCode` receives a command's non-zero success code. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void = () => undefined, argv: readonly string[] = []): Command {
  const program = new Command('levelskip')
    .description('Level-skipping diffusion U-Nets: sample, train, export and inspect models that skip their deepest levels at high noise.')
    .version(cliVersion, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own parse errors ("error: unknown option '--x'") in our one-line format.
      outputError: (text, write) => write(`levelskip: ${text.replace(/^error:\s*/, '').trim()}\n`),
    })
    .addHelpText('after', '\nRun `levelskip <command> --help` for the options of each command.');
  const context: CommandContext = { io, argv, setExitCode };
  for (const command of commands) command.register(program, context);
  return program;
}

/**
 * Runs `levelskip` with `argv` (without node and the script path) and resolves to the exit code.
 * Never calls `process.exit`; the bin script does, after output is flushed.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = createProgram(
    io,
    (code) => {
      exitCode = code;
    },
    argv,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output are successes; commander has already printed parse errors.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return exitCodes.ok;
      // Everything else (including help shown because no command was given) is a usage error.
      return exitCodes.usage;
    }
    io.stderr.write(`levelskip: ${errorLine(error)}\n`);
    if (io.env['LEVELSKIP_DEBUG'] === '1' && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
