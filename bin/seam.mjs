#!/usr/bin/env node
// Entry point for the `seam` command. Seam ships TypeScript sources and runs them through tsx's
// loader, so a fresh `npm ci` needs no build step.
import { register } from 'tsx/esm/api';

register();
// `seam … | head` closes stdout early: stop quietly, as other Unix tools do, instead of crashing on EPIPE.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
