import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { registerCoreCommands } from './core.command.ts';

/** Every `aula` subcommand is registered here; each file adds one command family. */
export function registerCommands(program: Command, config: () => Config): void {
  registerCoreCommands(program, config);
}
