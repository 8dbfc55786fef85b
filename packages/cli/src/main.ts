#!/usr/bin/env node
import { Command } from 'commander';

import { registerAuditCommands } from './commands/audit.js';
import { registerDbCommands } from './commands/db.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerImportCommand } from './commands/import.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerLinkageCommands } from './commands/linkage.js';
import { registerManifestCommands } from './commands/manifest.js';
import { registerNodeCommands } from './commands/node.js';
import { registerPurgeCommand } from './commands/purge.js';
import { registerRecordsCommands } from './commands/records.js';
import { registerTokenCommands } from './commands/token.js';

/** `mcx`: the operator's one entry point. Every command has --help. */
export function buildProgram(): Command {
  const program = new Command('mcx')
    .description('MCX, the Missing Children Exchange: operate a force node.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerNodeCommands(program);
  registerDbCommands(program);
  registerAuditCommands(program);
  registerDemoCommand(program);
  registerDoctorCommand(program);
  registerImportCommand(program);
  registerKeysCommands(program);
  registerLinkageCommands(program);
  registerManifestCommands(program);
  registerRecordsCommands(program);
  registerPurgeCommand(program);
  registerTokenCommands(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`mcx: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
