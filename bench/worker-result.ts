/** What every bench worker (our stages and the baselines) prints as its last stdout line. */

/** The run id of the stage worker's staged files, which the load floor reads too. */
export const BENCH_RUN_ID = 'bench-run';

export interface StageResult {
  /** transform, load, duckdb-floor, pandas, node-naive. */
  stage: string;
  /** Wall time of the work itself, without process start-up and input staging. */
  ms: number;
  /** Peak resident set of the worker process, in MiB. */
  maxRssMb: number;
  rowsOut: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  /** The transform report's columns and timings; the step timings of a load or the load floor. */
  report?: unknown;
}

/** Peak resident set of this process (V8 heap, Arrow buffers and native memory such as DuckDB's), in MiB. */
export function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function printResult(result: StageResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
