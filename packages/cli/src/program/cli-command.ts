/**
 * The shape of one `levelskip` command. A command is one file in `src/commands/` exporting a
 * `CliCommand`; `src/commands/index.ts` lists them, and `createProgram` registers that list.
 */
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

export interface CommandContext {
  readonly io: CliIo;
  /** The arguments the CLI was run with (recorded in training metadata). */
  readonly argv: readonly string[];
  /** Sets the process exit code for a command that ends without throwing (e.g. 130 after Ctrl-C). */
  setExitCode(code: number): void;
}

export interface CliCommand {
  readonly name: string;
  /** Adds the command (its options, help text and action) to `program` and returns it. */
  register(program: Command, context: CommandContext): Command;
}
