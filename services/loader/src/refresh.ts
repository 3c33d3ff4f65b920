/**
 * The refresh step after a load: refresh the Tableau extract that reads the warehouse and wait for the
 * job, so the workflow ends only when Tableau shows the new data. Without TABLEAU_* config it answers
 * `skipped` (200), so the workflow's TABLEAU_REFRESH switch and the loader's config can be set apart.
 *
 * Calling it again for the same run refreshes again: a refresh reads whatever the warehouse holds, so a
 * repeat is harmless, and when the first call's job is still queued Tableau's 409093 makes the repeat
 * follow that job instead of queuing another.
 */
import type { RefreshRequest, RefreshResponse } from '@etl/common/contracts';
import { NotFoundError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, manifestKey } from '@etl/common/storage';
import { TableauClient, type TableauRefreshSetup } from './tableau';

export interface RefreshDeps {
  store: BlobStore;
  logger: Logger;
  /** Undefined when Tableau is not configured. */
  tableau?: TableauRefreshSetup;
}

export const TABLEAU_NOT_CONFIGURED = 'TABLEAU_* not configured';

export async function refresh(request: RefreshRequest, deps: RefreshDeps): Promise<RefreshResponse> {
  const { runId } = request;
  const logger = deps.logger.child({ runId, stage: 'refresh' });
  if (!deps.tableau) {
    logger.info(
      'Tableau refresh skipped: TABLEAU_* not configured (set TABLEAU_SERVER_URL, TABLEAU_TOKEN_NAME, TABLEAU_TOKEN_SECRET and a data source)',
    );
    return { runId, status: 'skipped', reason: TABLEAU_NOT_CONFIGURED };
  }
  const loaded = manifestKey(runId, 'load');
  if (!(await deps.store.exists(loaded))) {
    throw new NotFoundError(
      `run ${runId} has no load manifest at ${loaded}: run the load stage before refreshing Tableau`,
      { runId, objectKey: loaded },
    );
  }
  const started = Date.now();
  const client = new TableauClient({ ...deps.tableau.client, logger });
  const result = await client.refreshExtract(deps.tableau.target, { timeoutMs: deps.tableau.timeoutMs });
  const response: RefreshResponse = {
    runId,
    status: result.status,
    target: result.target,
    adopted: result.adopted,
    ms: Date.now() - started,
  };
  if (result.reason) response.reason = result.reason;
  if (result.job) {
    response.jobId = result.job.id;
    if (result.job.startedAt) response.startedAt = result.job.startedAt;
    if (result.job.completedAt) response.completedAt = result.job.completedAt;
  }
  logger.info({ ...response }, `Tableau refresh ${result.status}`);
  return response;
}
