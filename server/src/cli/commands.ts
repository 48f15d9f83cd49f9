import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { registerAnalyzeCommand } from './analyze.command.ts';
import { registerCoreCommands } from './core.command.ts';
import { registerFacesCommand } from './faces.command.ts';
import { registerGradesCommand } from './grades.command.ts';
import { registerLoadCommand } from './load.command.ts';
import { registerRosterCommand } from './roster.command.ts';

/** Every `aula` subcommand is registered here; each file adds one command family. */
export function registerCommands(program: Command, config: () => Config): void {
  registerCoreCommands(program, config);
  registerFacesCommand(program, config);
  registerAnalyzeCommand(program, config);
  registerLoadCommand(program);
  registerRosterCommand(program, config);
  registerGradesCommand(program, config);
}
