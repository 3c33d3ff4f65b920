/**
 * One pipeline run in embedded mode: start the services, execute workflows/etl.workflows.yaml in the local
 * runner against them, stop the services. The summary is the workflow's own return value.
 */

import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import type { SchemaChange } from '@etl/common/contracts';
import { workspaceRoot } from '@etl/common/workspace-root';
import {
  type AlertRecord,
  type Clock,
  runWorkflowFile,
  type TraceEvent,
  WorkflowExecutionError,
} from '@etl/workflow-runner';
import { createRunStore, type ResumableStage, removeManifestsFrom } from './run-state';
import { servedServices } from './served-services';
import { ServiceDiedError } from './service-exit';
import { startServices } from './services';

export const WORKFLOW_FILE = path.join(workspaceRoot(import.meta.dirname), 'workflows/etl.workflows.yaml');

export interface TableSummary {
  name: string;
  /** The dataset's files (workbook sheets as FILE#SHEET) whose rows form the table. */
  files?: string[];
  rowsIn: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  /** Rows of the dataset's previous version this load replaced. */
  rowsReplaced?: number;
  /** How the table differs from the schema it was last loaded with (docs/contracts.md). */
  schemaChanges?: SchemaChange[];
  /** Readings the transformer chose where the values allowed several (an ambiguous date order). */
  guesses?: Array<{ column?: string; message: string }>;
  /** What the transformer did to the files that no reading decided (partition values added as columns). */
  notes?: Array<{ message: string }>;
}

export interface RunSummary {
  runId: string;
  status: 'succeeded' | 'skipped' | 'failed';
  source: string;
  datasetVersion: string | null;
  tables: TableSummary[];
  /** Files of the dataset that hold no table (README, images, empty files), with the reason. */
  skippedFiles?: Array<{ name: string; reason: string }>;
  /** Tables an earlier version loaded and this one has no file for: their rows stay (docs/datasets.md). */
  tablesNotInVersion?: Array<{ name: string; rows: number; version: string | null }>;
  /** The ML stage: null when it is off; `failed` (with the reason) leaves the run succeeded. */
  analysis?: {
    status: string;
    reason?: string;
    code?: number;
    skipped?: Array<{ output: string; reason: string }>;
    /** The rows the analysis counts as sales, when an event type or a status says (`roles.sales` of the analyze response). */
    sales?: { evidence: string } | null;
  } | null;
  durationMs: number;
  /** The workflow's error map when the run failed. */
  error?: unknown;
}

export interface RunPipelineOptions {
  source: string;
  dataDir: string;
  runId?: string;
  force?: boolean;
  /**
   * Re-run `runId` redoing `resumeFrom` and every later stage: their manifests are removed first (and
   * only theirs), and the workflow gets `resume_from`. Without it, a run with an earlier run id still
   * skips the stages already done (their manifests answer) and does the rest: `etl run --resume`.
   */
  resumeFrom?: ResumableStage;
  /** Passed to the stages: table name, quality gate, sample size. */
  options?: Record<string, unknown>;
  /** Environment for the services. */
  serviceEnv?: Record<string, string>;
  onProgress?: (line: string) => void;
}

/** Sortable and readable: run-20261127-054812-1a2b3c. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}

const STAGE_STEPS: Record<string, string> = {
  call_extract: 'extract',
  call_transform: 'transform',
  call_load: 'load',
  call_analyze: 'analyze',
  call_refresh: 'refresh',
};

export async function runPipeline(options: RunPipelineOptions): Promise<RunSummary> {
  const started = Date.now();
  const runId = options.runId ?? newRunId();
  const progress = options.onProgress ?? (() => {});
  mkdirSync(options.dataDir, { recursive: true });
  if (options.resumeFrom) {
    if (!options.runId) throw new Error('resumeFrom needs the runId of the run to resume');
    const store = await createRunStore(options.dataDir, { ...process.env, ...options.serviceEnv });
    const removed = await removeManifestsFrom(store, runId, options.resumeFrom);
    progress(
      `run ${runId}: redoing from ${options.resumeFrom}` +
        (removed.length > 0 ? ` (removed ${removed.join(', ')})` : ' (no manifest to remove)'),
    );
  }
  progress(`run ${runId}: starting services`);
  const served = await servedServices(options.dataDir, { ...process.env, ...options.serviceEnv });
  if (served.notUsed) progress(`run ${runId}: not using the services of ${served.notUsed}`);
  const services =
    served.services ??
    (await startServices({
      dataDir: options.dataDir,
      env: options.serviceEnv,
      onProgress: (line) => progress(`run ${runId}: ${line}`),
    }));
  progress(
    `run ${runId}: services ${served.services ? 'of etl serve' : 'started'}: ${services.services.map((s) => `${s.name} pid ${s.pid} ${s.url}`).join(', ')}; logs in ${services.logDir}`,
  );
  // A service that dies stops the run at once: the workflow would retry its dead port for minutes.
  const stopped = new AbortController();
  let currentStage = 'init';
  const appendAlert = (record: AlertRecord) => {
    appendFileSync(path.join(options.dataDir, 'alerts.jsonl'), `${JSON.stringify(record)}\n`);
    progress(`ALERT ${alertSummary(record.data)}`);
  };
  try {
    const argument = {
      source: options.source,
      run_id: runId,
      force: options.force ?? false,
      options: options.options ?? {},
      ...(options.resumeFrom ? { resume_from: options.resumeFrom } : {}),
    };
    const workflow = runWorkflowFile(WORKFLOW_FILE, argument, {
      env: {
        EXTRACTOR_URL: services.urls.extractor,
        TRANSFORMER_URL: services.urls.transformer,
        LOADER_URL: services.urls.loader,
        ALERT_TOPIC: 'projects/local/topics/etl-alerts',
        ML_INSIGHTS: process.env.ML_INSIGHTS ?? 'true',
      },
      // Once the run is stopped, the abandoned workflow's retry waits end at once.
      clock: abortableClock(stopped.signal),
      // Local alerting: a JSON line in <data-dir>/alerts.jsonl and a line on the console; with
      // PUBSUB_EMULATOR_HOST set, the alert goes to the Pub/Sub emulator instead.
      alertSink: (record: AlertRecord) => {
        if (!stopped.signal.aborted) appendAlert(record);
      },
      pubsubEmulatorHost: process.env.PUBSUB_EMULATOR_HOST,
      trace: (event: TraceEvent) => {
        if (stopped.signal.aborted) return;
        const stage = STAGE_STEPS[event.step];
        if (stage && event.phase === 'end')
          progress(`${stage}: ${event.outcome} in ${Math.round(event.durationMs ?? 0)} ms`);
        if (stage && event.phase === 'start') {
          currentStage = stage;
          progress(`${stage}: started`);
        }
      },
    });
    workflow.catch(() => {}); // abandoned when a service dies first
    const died = services.died.then(async (exit) => {
      throw await ServiceDiedError.from(exit);
    });
    const result = (await Promise.race([workflow, died])) as Omit<RunSummary, 'durationMs'>;
    return { ...result, durationMs: Date.now() - started };
  } catch (error) {
    if (error instanceof ServiceDiedError) {
      stopped.abort(error);
      progress(`run ${runId}: stopped: ${error.message}`);
      appendAlert(serviceDiedAlert(error, { runId, step: currentStage, source: options.source }));
    } else if (!(error instanceof WorkflowExecutionError)) throw error;
    return {
      runId,
      status: 'failed',
      source: options.source,
      datasetVersion: null,
      tables: [],
      durationMs: Date.now() - started,
      error: error instanceof ServiceDiedError ? error.toJSON() : error.error,
    };
  } finally {
    await services.stop();
  }
}

/** Real time, except that every wait rejects as soon as `signal` aborts. */
function abortableClock(signal: AbortSignal): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) => setTimeout(ms, undefined, { signal }),
  };
}

/** The alert a stopped run publishes, in the shape of the workflow's own (alert_message). */
function serviceDiedAlert(
  error: ServiceDiedError,
  context: { runId: string; step: string; source: string },
): AlertRecord {
  return {
    topic: 'projects/local/topics/etl-alerts',
    messageId: randomBytes(8).toString('hex'),
    publishTime: new Date().toISOString(),
    data: { severity: 'ERROR', ...context, error: error.toJSON() },
    attributes: { severity: 'ERROR', runId: context.runId, step: context.step },
  };
}

/** One console line for an alert: the step, then the reason the stage gave (its JSON error), not only its status. */
function alertSummary(data: unknown): string {
  const alert = data as { step?: unknown; error?: { code?: unknown } } | null;
  return `step ${String(alert?.step)} failed: ${errorReason(alert?.error)} (code ${String(alert?.error?.code)}); see alerts.jsonl`;
}

/**
 * A workflow error in one line: the code and message of the stage's JSON error when a service answered
 * with one, else the error's own message (the full error is in `--json` and alerts.jsonl).
 */
export function errorReason(error: unknown): string {
  const e = error as { message?: unknown; body?: { error?: { code?: unknown; message?: unknown } } } | null;
  const stageError = e?.body?.error;
  const reason =
    typeof stageError?.message === 'string'
      ? `${String(stageError.code)}: ${stageError.message}`
      : typeof e?.message === 'string'
        ? e.message
        : JSON.stringify(error);
  return reason.split('\n')[0]!;
}
