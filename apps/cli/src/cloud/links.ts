/** Console links for an execution: the execution page and Cloud Logging queries on its id. */

export interface ExecutionRef {
  project: string;
  region: string;
  workflow: string;
  executionId: string;
}

export interface ExecutionLinks {
  /** The execution in the Workflows console (state, input, output, steps). */
  console: string;
  /** Cloud Logging: every log entry of the execution (start, end, call logs, sys.log). */
  logs: string;
  /** The Logging query behind `logs`, for `gcloud logging read`. */
  logsQuery: string;
  /** Cloud Logging: the Cloud Run services' entries that mention the run id (when it is known). */
  serviceLogs?: string;
}

const CONSOLE = 'https://console.cloud.google.com';

export function executionLogsQuery(ref: ExecutionRef): string {
  return [
    'resource.type="workflows.googleapis.com/Workflow"',
    `resource.labels.workflow_id="${ref.workflow}"`,
    `labels."workflows.googleapis.com/execution_id"="${ref.executionId}"`,
  ].join('\n');
}

function logsUrl(project: string, query: string): string {
  return `${CONSOLE}/logs/query;query=${encodeURIComponent(query)}?project=${encodeURIComponent(project)}`;
}

export function executionLinks(ref: ExecutionRef, runId?: string): ExecutionLinks {
  const logsQuery = executionLogsQuery(ref);
  const path = [ref.region, ref.workflow, ref.executionId].map(encodeURIComponent);
  return {
    console: `${CONSOLE}/workflows/workflow/${path[0]}/${path[1]}/execution/${path[2]}?project=${encodeURIComponent(ref.project)}`,
    logs: logsUrl(ref.project, logsQuery),
    logsQuery,
    ...(runId
      ? { serviceLogs: logsUrl(ref.project, `resource.type="cloud_run_revision"\n${JSON.stringify(runId)}`) }
      : {}),
  };
}
