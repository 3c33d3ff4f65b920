/**
 * When a service dies during a run, say which one and how (signal or exit code) with the last lines of
 * its log, instead of letting the workflow retry a dead port for minutes and report ECONNREFUSED.
 */
import { open } from 'node:fs/promises';

export interface ServiceExit {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
}

const TAIL_BYTES = 64 * 1024;

/** "was killed by SIGKILL (…)" or "exited with code 1". */
export function describeExit({ code, signal }: Pick<ServiceExit, 'code' | 'signal'>): string {
  if (signal === 'SIGKILL')
    return 'was killed by SIGKILL (kill -9, or the out-of-memory killer: see `dmesg | grep -i oom`)';
  if (signal) return `was killed by ${signal}`;
  // A service `etl serve` started: how it ended is that process's to know.
  if (code === null) return 'stopped';
  return `exited with code ${code}`;
}

/** The last `count` lines of a service's JSON log, each as `time SEVERITY message`. */
export async function readLogTail(file: string, count = 10): Promise<string[]> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, TAIL_BYTES);
      const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).slice(-count).map(readableLogLine);
}

function readableLogLine(line: string): string {
  try {
    const record = JSON.parse(line) as { time?: unknown; severity?: unknown; message?: unknown };
    if (typeof record.message === 'string')
      return `${String(record.time ?? '')} ${String(record.severity ?? '')} ${record.message}`.trim();
  } catch {
    // Not a JSON log line (a stack trace, a Node warning): shown as it is.
  }
  return line;
}

/** The run stopped because a service died: what the summary, the alert and the console carry. */
export class ServiceDiedError extends Error {
  readonly code = 'SERVICE_DIED';

  constructor(
    readonly exit: ServiceExit,
    readonly lastLogLines: string[],
  ) {
    const tail = lastLogLines.length
      ? `; last lines of ${exit.logFile}:\n  ${lastLogLines.join('\n  ')}`
      : `; ${exit.logFile} is empty`;
    super(`the ${exit.name} service (pid ${exit.pid}) ${describeExit(exit)} during the run${tail}`);
    this.name = 'ServiceDiedError';
  }

  static async from(exit: ServiceExit): Promise<ServiceDiedError> {
    return new ServiceDiedError(exit, await readLogTail(exit.logFile));
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      service: this.exit.name,
      pid: this.exit.pid,
      signal: this.exit.signal,
      exitCode: this.exit.code,
      logFile: this.exit.logFile,
      lastLogLines: this.lastLogLines,
    };
  }
}
