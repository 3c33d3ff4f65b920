#!/usr/bin/env -S node --import tsx
/** The `etl` command. Each command is a module under commands/; this file only dispatches. */
import { errorMessage, isPipelineError } from '@etl/common/errors';
import { UsageError } from './args';
import { COMMANDS, usage } from './commands';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const text = await usage();
    process.stdout.write(`${text}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    const text = await usage();
    process.stderr.write(`etl: unknown command ${JSON.stringify(name)}\n${text}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest);
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
