/**
 * Every `levelskip` command, in help order. Adding a command: write `src/commands/<name>.ts`
 * exporting a `CliCommand`, and list it here.
 */
import type { CliCommand } from '../program/cli-command.js';
import { calibrateCommand } from './calibrate.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { infoCommand } from './info.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';

export const commands: readonly CliCommand[] = [demoCommand, infoCommand, sampleCommand, evalCommand, trainCommand, exportCommand, calibrateCommand];
