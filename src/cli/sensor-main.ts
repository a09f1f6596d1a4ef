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
  // A flag commander refuses is a usage mistake: exit 2, as `seam sensor` and the other commands (--help stays 0).
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
