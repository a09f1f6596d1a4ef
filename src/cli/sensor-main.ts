import { Command, CommanderError } from 'commander';
import { defineSensorCommand } from './sensor.ts';

/**
 * The sidecar image's entry point: `seam sensor` alone, bundled by `npm run build:sensor` into one
 * file run by plain node. Loading the whole CLI through tsx costs ~95 MB of RSS; the bundle stays
 * inside the sidecar's 64 MB budget (ADR 0012).
 */
const program = defineSensorCommand(new Command('seam-sensor')).exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode;
}
