import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { registerAnalyzeCommand } from './analyze.command.ts';
import { registerBlobsCommand } from './blobs.command.ts';
import { registerCameraCommand } from './camera.command.ts';
import { registerCoreCommands } from './core.command.ts';
import { registerFacesCommand } from './faces.command.ts';
import { registerGradesCommand } from './grades.command.ts';
import { registerLoadCommand } from './load.command.ts';
import { registerRosterCommand } from './roster.command.ts';
import { registerVideoCommand } from './video.command.ts';
import { registerWorkerCommand } from './worker.command.ts';

/** Every `aula` subcommand is registered here; each file adds one command family. */
export function registerCommands(program: Command, config: () => Config): void {
  registerCoreCommands(program, config);
  registerWorkerCommand(program, config);
  registerCameraCommand(program);
  registerVideoCommand(program, config);
  registerFacesCommand(program, config);
  registerAnalyzeCommand(program, config);
  registerLoadCommand(program);
  registerRosterCommand(program, config);
  registerGradesCommand(program, config);
  registerBlobsCommand(program, config);
}
