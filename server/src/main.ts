import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config.ts';
import { registerCommands } from './cli/commands.ts';
import { AppError } from './platform/errors.ts';

const program = new Command('aula')
  .description('Aula: camera attendance, live gradebook, photo albums and an image-analysis lab')
  .showHelpAfterError()
  .exitOverride();

registerCommands(program, () => loadConfig());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander prints the errors of its own parsing; one thrown by a command's action is ours to print.
    if (err instanceof InvalidArgumentError) console.error(`error: ${err.message}`);
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof ConfigError) {
    console.error(err.message);
    process.exitCode = 78;
  } else if (err instanceof AppError) {
    console.error(`error: ${err.message}${err.details ? `\n${JSON.stringify(err.details, null, 2)}` : ''}`);
    process.exitCode = 1;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
