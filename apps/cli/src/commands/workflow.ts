import { parseArgs } from 'node:util';
import {
  checkWorkflowFile,
  runWorkflowFile,
  stringifyResult,
  WorkflowExecutionError,
} from '@etl/workflow-runner';
import { parsePairs, resolveFromCaller, UsageError } from '../args';

export const workflowUsage = `etl workflow run FILE [--args JSON] [--route FROM=TO]... [--env K=V]... [--trace FILE] [--fast-retries]
  etl workflow check FILE`;

export async function workflowCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'check') return check(rest);
  if (sub === 'run') return run(rest);
  throw new UsageError(`unknown workflow command ${JSON.stringify(sub ?? '')}\nusage: ${workflowUsage}`);
}

async function check(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`usage: ${workflowUsage}`);
  const file = resolveFromCaller(positionals[0]!);
  await checkWorkflowFile(file);
  process.stderr.write(`${file}: valid\n`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      args: { type: 'string' },
      route: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      trace: { type: 'string' },
      'fast-retries': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${workflowUsage}`);
  let argument: unknown = null;
  if (values.args !== undefined) {
    try {
      argument = JSON.parse(values.args);
    } catch (error) {
      throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`);
    }
  }
  try {
    const result = await runWorkflowFile(resolveFromCaller(positionals[0]!), argument, {
      routes: parsePairs(values.route, '--route').map(([from, to]) => ({ from, to })),
      env: Object.fromEntries(parsePairs(values.env, '--env')),
      trace: values.trace ? resolveFromCaller(values.trace) : undefined,
      fastRetries: values['fast-retries'],
      pubsubEmulatorHost: process.env.PUBSUB_EMULATOR_HOST,
    });
    process.stdout.write(`${stringifyResult(result ?? null)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof WorkflowExecutionError)) throw error;
    process.stderr.write(`${stringifyResult(error.error)}\n`);
    return 1;
  }
}
