/**
 * The commands by name, for main.ts (here, not there: tsx's import lexer fails on a dynamic import in a
 * module that starts with a shebang line).
 */

export interface Command {
  run: (argv: string[]) => Promise<number>;
  usage: string;
}

/**
 * Each command's module, imported when the command runs: `etl run` does not load the cloud, insights,
 * Tableau or profiling code (and their SDKs) before it starts its services.
 */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => {
    const m = await import('./run');
    return { run: m.runCommand, usage: m.runUsage };
  },
  schedule: async () => {
    const m = await import('./schedule');
    return { run: m.scheduleCommand, usage: m.scheduleUsage };
  },
  watch: async () => {
    const m = await import('./watch');
    return { run: m.watchCommand, usage: m.watchUsage };
  },
  query: async () => {
    const m = await import('./query');
    return { run: m.queryCommand, usage: m.queryUsage };
  },
  serve: async () => {
    const m = await import('./serve');
    return { run: m.serveCommand, usage: m.serveUsage };
  },
  generate: async () => {
    const m = await import('./generate');
    return { run: m.generateCommand, usage: m.generateUsage };
  },
  profile: async () => {
    const m = await import('./profile');
    return { run: m.profileCommand, usage: m.profileUsage };
  },
  workflow: async () => {
    const m = await import('./workflow');
    return { run: m.workflowCommand, usage: m.workflowUsage };
  },
  insights: async () => {
    const m = await import('./insights');
    return { run: m.insightsCommand, usage: m.insightsUsage };
  },
  cloud: async () => {
    const m = await import('./cloud');
    return { run: m.cloudCommand, usage: m.cloudUsage };
  },
  tableau: async () => {
    const m = await import('./tableau');
    return { run: m.tableauCommand, usage: m.tableauUsage };
  },
  lease: async () => {
    const m = await import('./lease');
    return { run: m.leaseCommand, usage: m.leaseUsage };
  },
};

/** Every command's usage line (this loads every command's module). */
export async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const lines = commands.map((command) => `  ${command.usage}`);
  return ['usage:', ...lines, 'See README.md for every option and config variable.'].join('\n');
}
