/**
 * One load per dataset at a time. Before it touches the warehouse, a load creates
 * datasets/<kind>/<owner>/<slug>/lease.json with create-if-absent (LocalBlobStore: link(); GCS:
 * ifGenerationMatch=0), holding its runId and an expiry. A second run of the same dataset is refused with
 * 409 DATASET_BUSY naming the run that holds the lease. The lease is released when the load ends, failed
 * or not. A retry of the same run (after a crash or a lost response) takes its own lease back; a lease
 * past its expiry (its holder died) is taken over.
 */
import { ConflictError, errorMessage, isPipelineError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import { z } from 'zod';

/**
 * Default lifetime of a lease: the workflow's call timeout (1800 s). A load cannot legitimately hold it
 * longer: past that the workflow has retried (the same run re-takes its lease) or given up.
 */
export const DEFAULT_LEASE_TTL_MS = 30 * 60_000;

const leaseSchema = z.object({ runId: z.string(), acquiredAt: z.string(), expiresAt: z.string() });
export type Lease = z.infer<typeof leaseSchema>;

export interface LeaseOptions {
  store: BlobStore;
  key: string;
  /** Names the dataset in messages, e.g. `local/files/sales`. */
  dataset: string;
  runId: string;
  ttlMs?: number;
  now?: () => Date;
  logger?: Logger;
}

async function readLease(store: BlobStore, key: string): Promise<Lease | undefined | 'unreadable'> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (isPipelineError(error) && error.status === 404) return undefined;
    throw error;
  }
  const parsed = leaseSchema.safeParse(
    (() => {
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        return undefined;
      }
    })(),
  );
  return parsed.success ? parsed.data : 'unreadable';
}

/** Takes the dataset's lease for `runId`, or throws 409 DATASET_BUSY naming the run holding it. */
export async function acquireLease(options: LeaseOptions): Promise<Lease> {
  const { store, key, runId } = options;
  const now = options.now ?? (() => new Date());
  const make = (): Lease => {
    const at = now();
    return {
      runId,
      acquiredAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + (options.ttlMs ?? DEFAULT_LEASE_TTL_MS)).toISOString(),
    };
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const lease = make();
    try {
      await store.put(key, `${JSON.stringify(lease)}\n`, { ifAbsent: true, contentType: 'application/json' });
      return lease;
    } catch (error) {
      if (!(isPipelineError(error) && error.status === 409)) throw error;
    }
    const held = await readLease(store, key);
    if (held === undefined) continue; // released in between: try again
    if (held !== 'unreadable' && held.runId === runId) {
      // The same run again (a workflow retry after a crash or a lost answer): it is ours.
      await store.put(key, `${JSON.stringify(lease)}\n`, { contentType: 'application/json' });
      options.logger?.info({ objectKey: key }, `run ${runId} takes back its own lease on ${options.dataset}`);
      return lease;
    }
    if (held === 'unreadable' || Date.parse(held.expiresAt) <= now().getTime()) {
      options.logger?.warn(
        { objectKey: key, held },
        `taking over the expired lease on ${options.dataset}${held === 'unreadable' ? '' : ` of run ${held.runId}`}`,
      );
      await store.delete(key);
      continue;
    }
    throw new ConflictError(
      `dataset ${options.dataset} is being loaded by run ${held.runId} (lease ${key}, until ${held.expiresAt}); run ${runId} was refused so that the two loads cannot interleave: start it again when run ${held.runId} has ended`,
      { runId, objectKey: key, details: { heldBy: held.runId, expiresAt: held.expiresAt } },
      'DATASET_BUSY',
    );
  }
  throw new ConflictError(
    `could not take the lease ${key} on dataset ${options.dataset} for run ${runId}: it changed hands three times in a row`,
    { runId, objectKey: key },
    'DATASET_BUSY',
  );
}

/** Releases the lease if `runId` still holds it (a lease taken over after expiry is left alone). */
export async function releaseLease(
  options: Pick<LeaseOptions, 'store' | 'key' | 'runId' | 'logger'>,
): Promise<void> {
  try {
    const held = await readLease(options.store, options.key);
    if (held && held !== 'unreadable' && held.runId === options.runId)
      await options.store.delete(options.key);
  } catch (error) {
    // Not fatal: the lease expires by itself.
    options.logger?.warn(
      { objectKey: options.key, error: errorMessage(error) },
      'could not release the lease',
    );
  }
}
