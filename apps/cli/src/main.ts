#!/usr/bin/env -S node --import tsx
/** The `etl` command. Each command is a module under commands/; this file only dispatches. */
import { errorMessage, isPipelineError } from '@etl/common/errors';
import { UsageError } from './args';
import { cloudCommand, cloudUsage } from './commands/cloud';
import { generateCommand, generateUsage } from './commands/generate';
import { insightsCommand, insightsUsage } from './commands/insights';
import { leaseCommand, leaseUsage } from './commands/lease';
import { profileCommand, profileUsage } from './commands/profile';
import { queryCommand, queryUsage } from './commands/query';
import { runCommand, runUsage } from './commands/run';
import { scheduleCommand, scheduleUsage } from './commands/schedule';
import { serveCommand, serveUsage } from './commands/serve';
import { tableauCommand, tableauUsage } from './commands/tableau';
import { watchCommand, watchUsage } from './commands/watch';
import { workflowCommand, workflowUsage } from './commands/workflow';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  schedule: scheduleCommand,
  watch: watchCommand,
  query: queryCommand,
  serve: serveCommand,
  generate: generateCommand,
  profile: profileCommand,
  workflow: workflowCommand,
  insights: insightsCommand,
  cloud: cloudCommand,
  tableau: tableauCommand,
  lease: leaseCommand,
};

const USAGE = `usage:
  ${runUsage}
  ${scheduleUsage}
  ${watchUsage}
  ${queryUsage}
  ${serveUsage}
  ${generateUsage}
  ${profileUsage}
  ${workflowUsage}
  ${insightsUsage}
  ${cloudUsage}
  ${tableauUsage}
  ${leaseUsage}
See README.md for every option and config variable.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`etl: unknown command ${JSON.stringify(name)}\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`etl ${name}: ${errorMessage(error)}\n`);
      return 2;
    }
    const code = isPipelineError(error) ? ` [${error.code}]` : '';
    process.stderr.write(`etl ${name}: ${errorMessage(error)}${code}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
