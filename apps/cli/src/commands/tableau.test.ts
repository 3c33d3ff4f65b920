import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { UsageError } from '../args';
import { renderBigQueryTds, SERVICE_ACCOUNT_PLACEHOLDER, tableauCommand } from './tableau';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tds-'));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe('etl tableau datasource', () => {
  test('writes a live BigQuery connection to <project>.<dataset>.sales from GCP_PROJECT / BIGQUERY_DATASET', async () => {
    vi.stubEnv('GCP_PROJECT', 'acme-sales-prod');
    vi.stubEnv('BIGQUERY_DATASET', 'sales_etl');
    const out = path.join(dir, 'sales.tds');
    expect(await tableauCommand(['datasource', '--out', out])).toBe(0);
    const tds = await readFile(out, 'utf8');
    expect(tds).toMatch(/^<\?xml version='1.0' encoding='utf-8' \?>/);
    expect(tds).toContain("class='bigquery'");
    expect(tds).toContain("CATALOG='acme-sales-prod' EXECCATALOG='acme-sales-prod'");
    expect(tds).toContain("project='acme-sales-prod' schema='sales_etl'");
    expect(tds).toContain("authentication='yes' username=''");
    expect(tds).toContain(
      "<relation connection='bigquery.sales-etl' name='sales' table='[sales_etl].[sales]' type='table' />",
    );
    expect(tds).toContain("formatted-name='Sales ETL (BigQuery)'");
  });

  test('the service-account variant carries a placeholder e-mail and never a key', () => {
    const tds = renderBigQueryTds({
      project: 'acme-sales-prod',
      dataset: 'sales_etl',
      table: 'sales',
      auth: 'service-account',
      name: "O'Brien & co",
    });
    expect(tds).toContain(
      `authentication='service-account' service-account-email='${SERVICE_ACCOUNT_PLACEHOLDER}'`,
    );
    expect(tds).toContain("formatted-name='O&apos;Brien &amp; co'");
    expect(tds).not.toMatch(/private_key|password/);
  });

  test('refuses missing or invalid project and dataset', async () => {
    vi.stubEnv('GCP_PROJECT', '');
    vi.stubEnv('BIGQUERY_DATASET', '');
    await expect(tableauCommand(['datasource'])).rejects.toThrow(/expected --project and --dataset/);
    await expect(
      tableauCommand(['datasource', '--project', 'p-12345', '--dataset', 'bad-name']),
    ).rejects.toThrow(UsageError);
    await expect(tableauCommand(['nope'])).rejects.toThrow(/expected a subcommand/);
  });
});
