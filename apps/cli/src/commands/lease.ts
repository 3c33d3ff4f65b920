/**
 * `etl lease`: show or clear the load lease of a dataset (datasets/<kind>/<owner>/<slug>/lease.json). A
 * lease is cleared only when its holder is known to be gone, so that two loads never interleave; --force
 * is for a holder on another host that the operator has checked by hand.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { datasetLeaseKey } from '@etl/common/storage';
import { describeLeaseHolder, type Lease, leaseHolderGone, readLease } from '@etl/loader/lease';
import { resolveDataDir, UsageError } from '../args';
import { createRunStore } from '../run-state';

export const leaseUsage =
  'etl lease show|clear KIND/OWNER/SLUG [--force] [--data-dir DIR]   (e.g. etl lease clear sample/generated/sales)';

export async function leaseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const [action, dataset, ...extra] = positionals;
  const segments = dataset?.split('/') ?? [];
  if ((action !== 'show' && action !== 'clear') || segments.length !== 3 || extra.length > 0)
    throw new UsageError(`expected ${leaseUsage}, got ${JSON.stringify(argv.join(' '))}`);
  const [kind, owner, slug] = segments as [string, string, string];
  const key = datasetLeaseKey(kind, owner, slug);
  const store = await createRunStore(resolveDataDir(values['data-dir']));
  const lease = await readLease(store, key);
  if (lease === undefined) {
    process.stdout.write(`no lease on dataset ${dataset} (${key})\n`);
    return 0;
  }
  const gone = lease === 'unreadable' ? 'it cannot be read' : leaseHolderGone(lease);
  const holder = lease === 'unreadable' ? 'an unreadable holder' : describeLeaseHolder(lease);
  if (action === 'show') {
    process.stdout.write(`dataset ${dataset} is leased to ${holder}: ${gone ? `stale, ${gone}` : 'live'}\n`);
    return 0;
  }
  if (lease !== 'unreadable' && !gone && !values.force) {
    process.stderr.write(
      `etl lease: refusing to clear the lease on dataset ${dataset}: it is held by ${holder}, and ${whyLive(lease)}. Wait for that run to end, or pass --force once you know its loader is gone.\n`,
    );
    return 1;
  }
  await store.delete(key);
  process.stdout.write(`cleared the lease on dataset ${dataset} held by ${holder} (${gone ?? 'forced'})\n`);
  return 0;
}

function whyLive(lease: Lease): string {
  if (lease.holder?.host === hostname())
    return `its loader, pid ${lease.holder.pid}, is still running on this host`;
  const where = lease.holder
    ? `on host ${lease.holder.host}, which cannot be checked from here`
    : 'unrecorded';
  return `its loader is ${where}, and its heartbeat keeps it until ${lease.expiresAt}`;
}
