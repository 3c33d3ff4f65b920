/**
 * One load per dataset at a time. Before it touches the warehouse, a load creates
 * datasets/<kind>/<owner>/<slug>/lease.json with create-if-absent (LocalBlobStore: link(); GCS:
 * ifGenerationMatch=0), holding its runId, its holder (host and pid) and a short expiry that a heartbeat
 * renews while the load runs. A second run of the same dataset is refused with 409 DATASET_BUSY naming the
 * run that holds the lease. The lease is released when the load ends, failed or not, and when the loader
 * shuts down. A retry of the same run (after a crash or a lost response) takes its own lease back; a lease
 * whose holder is gone (its process dead on this host, or no heartbeat past the expiry) is taken over.
 */
import { hostname } from 'node:os';
import { ConflictError, errorMessage, isPipelineError } from '@etl/common/errors';
import { isProcessAlive } from '@etl/common/lifecycle';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import { z } from 'zod';

/**
 * Default lifetime of a lease without a heartbeat: how long a dataset stays locked after its loader
 * vanished without a trace (another host, or a pid reused). The heartbeat renews it every quarter.
 */
export const DEFAULT_LEASE_TTL_MS = 2 * 60_000;

const leaseSchema = z.object({
  runId: z.string(),
  acquiredAt: z.string(),
  expiresAt: z.string(),
  /** The loader process holding the lease; absent in leases written before holders were recorded. */
  holder: z.object({ host: z.string(), pid: z.number().int() }).optional(),
});
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

interface HeldLease {
  options: LeaseOptions;
  heartbeat: NodeJS.Timeout;
  /** The renewal in flight, awaited before a release so that it cannot write the lease back. */
  renewing?: Promise<void>;
}

/** The leases this process holds, by key: renewed by their heartbeat, released on shutdown. */
const heldLeases = new Map<string, HeldLease>();

export async function readLease(store: BlobStore, key: string): Promise<Lease | undefined | 'unreadable'> {
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

/** "run r1 (pid 42 on host h, until 2026-…)": who holds a lease, for messages. */
export function describeLeaseHolder(lease: Lease): string {
  const holder = lease.holder ? `pid ${lease.holder.pid} on host ${lease.holder.host}, ` : '';
  return `run ${lease.runId} (${holder}until ${lease.expiresAt})`;
}

/**
 * Why a lease's holder is known to be gone, or undefined while it may still be loading. On this host the
 * holder's pid answers at once; elsewhere only the expiry can tell.
 */
export function leaseHolderGone(lease: Lease, now = new Date()): string | undefined {
  const holder = lease.holder;
  if (holder?.host === hostname()) {
    // Our own pid but not a lease we hold: written by an earlier process with the same pid (a restart).
    const gone =
      holder.pid === process.pid
        ? ![...heldLeases.values()].some((held) => held.options.runId === lease.runId)
        : !isProcessAlive(holder.pid);
    if (gone) return `its holder, pid ${holder.pid} on this host, is no longer running`;
  }
  if (Date.parse(lease.expiresAt) <= now.getTime()) return `it expired at ${lease.expiresAt}`;
  return undefined;
}

function makeLease(options: LeaseOptions, acquiredAt?: string): Lease {
  const at = (options.now ?? (() => new Date()))();
  return {
    runId: options.runId,
    acquiredAt: acquiredAt ?? at.toISOString(),
    expiresAt: new Date(at.getTime() + (options.ttlMs ?? DEFAULT_LEASE_TTL_MS)).toISOString(),
    holder: { host: hostname(), pid: process.pid },
  };
}

const writeLease = (options: LeaseOptions, lease: Lease, ifAbsent = false) =>
  options.store.put(options.key, `${JSON.stringify(lease)}\n`, {
    ifAbsent,
    contentType: 'application/json',
  });

/** Takes the dataset's lease for `runId`, or throws 409 DATASET_BUSY naming the run holding it. */
export async function acquireLease(options: LeaseOptions): Promise<Lease> {
  const { store, key, runId } = options;
  const now = options.now ?? (() => new Date());
  for (let attempt = 0; attempt < 3; attempt++) {
    const lease = makeLease(options);
    try {
      await writeLease(options, lease, true);
      startHeartbeat(options, lease);
      return lease;
    } catch (error) {
      if (!(isPipelineError(error) && error.status === 409)) throw error;
    }
    const held = await readLease(store, key);
    if (held === undefined) continue; // released in between: try again
    if (held !== 'unreadable' && held.runId === runId) {
      // The same run again (a workflow retry after a crash or a lost answer): it is ours.
      await writeLease(options, lease);
      startHeartbeat(options, lease);
      options.logger?.info({ objectKey: key }, `run ${runId} takes back its own lease on ${options.dataset}`);
      return lease;
    }
    const gone = held === 'unreadable' ? 'it cannot be read' : leaseHolderGone(held, now());
    if (held === 'unreadable' || gone) {
      const of = held === 'unreadable' ? '' : ` of run ${held.runId}`;
      options.logger?.warn(
        { objectKey: key, held },
        `taking over the lease on ${options.dataset}${of}: ${gone}`,
      );
      await store.delete(key);
      continue;
    }
    throw new ConflictError(
      `dataset ${options.dataset} is being loaded by ${describeLeaseHolder(held)}, lease ${key}; run ${runId} was refused so that the two loads cannot interleave: start it again when run ${held.runId} has ended (a lease whose holder is gone: etl lease clear ${options.dataset})`,
      {
        runId,
        objectKey: key,
        details: { heldBy: held.runId, holder: held.holder, expiresAt: held.expiresAt },
      },
      'DATASET_BUSY',
    );
  }
  throw new ConflictError(
    `could not take the lease ${key} on dataset ${options.dataset} for run ${runId}: it changed hands three times in a row`,
    { runId, objectKey: key },
    'DATASET_BUSY',
  );
}

function startHeartbeat(options: LeaseOptions, lease: Lease): void {
  stopHeartbeat(options.key);
  const held: HeldLease = {
    options,
    heartbeat: setInterval(
      () => {
        held.renewing ??= renewLease(held, lease.acquiredAt).finally(() => {
          held.renewing = undefined;
        });
      },
      (options.ttlMs ?? DEFAULT_LEASE_TTL_MS) / 4,
    ),
  };
  held.heartbeat.unref();
  heldLeases.set(options.key, held);
}

function stopHeartbeat(key: string): HeldLease | undefined {
  const held = heldLeases.get(key);
  if (held) clearInterval(held.heartbeat);
  heldLeases.delete(key);
  return held;
}

async function renewLease(held: HeldLease, acquiredAt: string): Promise<void> {
  const { options } = held;
  try {
    const current = await readLease(options.store, options.key);
    if (current === undefined || current === 'unreadable' || current.runId !== options.runId) {
      if (heldLeases.get(options.key) === held) stopHeartbeat(options.key);
      options.logger?.error(
        { objectKey: options.key },
        `run ${options.runId} lost its lease on ${options.dataset}: ${current === undefined || current === 'unreadable' ? 'it is gone' : `run ${current.runId} holds it now`}`,
      );
      return;
    }
    await writeLease(options, makeLease(options, acquiredAt));
  } catch (error) {
    // The next beat tries again; the lease lasts four beats.
    options.logger?.warn({ objectKey: options.key, error: errorMessage(error) }, 'could not renew the lease');
  }
}

/** Releases the lease if `runId` still holds it (a lease taken over meanwhile is left alone). */
export async function releaseLease(
  options: Pick<LeaseOptions, 'store' | 'key' | 'runId' | 'logger'>,
): Promise<void> {
  const held = heldLeases.get(options.key);
  if (held?.options.runId === options.runId) {
    stopHeartbeat(options.key);
    await held.renewing;
  }
  try {
    const current = await readLease(options.store, options.key);
    if (current && current !== 'unreadable' && current.runId === options.runId)
      await options.store.delete(options.key);
  } catch (error) {
    // Not fatal: without its heartbeat the lease expires by itself.
    options.logger?.warn(
      { objectKey: options.key, error: errorMessage(error) },
      'could not release the lease',
    );
  }
}

/** Releases every lease this process holds: on shutdown, when in-flight loads are being abandoned. */
export async function releaseHeldLeases(): Promise<void> {
  await Promise.all([...heldLeases.values()].map(({ options }) => releaseLease(options)));
}
