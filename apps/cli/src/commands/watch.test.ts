/**
 * `etl watch` as a user runs it: the CLI in a child process, running the real pipeline (three services,
 * DuckDB) in a temp data dir. Runs are observed through the JSON summary lines on stdout, the run
 * manifests, the watch state and `etl query`.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cli, query, salesCsv } from '../test-support/cli-process';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-watch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('etl watch', () => {
  test('one run per new content: a copy under another name does not run, a different file does', async () => {
    const inbox = path.join(dir, 'inbox');
    const dataDir = path.join(dir, 'watch-data');
    await mkdir(inbox);
    const cli = new Cli(['watch', inbox, '--interval', '150', '--json', '--data-dir', dataDir]);
    try {
      await cli.until(() => cli.stderr.includes('watching'), 'the watcher to start');
      // Ignored: not .csv/.zip, or a hidden partial upload.
      await writeFile(path.join(inbox, 'notes.txt'), 'not data');
      await writeFile(path.join(inbox, '.part.csv'), 'a,b\n');

      await writeFile(path.join(inbox, 'january.csv'), salesCsv(120, 1));
      await cli.until(() => cli.summaries.length === 1, 'the first run');
      expect(cli.summaries[0]).toMatchObject({
        status: 'succeeded',
        source: `local:${path.join(inbox, 'january.csv')}`,
        tables: [{ name: 'january', rowsIn: 120 }],
      });

      // The same bytes under another name: remembered by content, not run again.
      await copyFile(path.join(inbox, 'january.csv'), path.join(inbox, 'january-copy.csv'));
      await cli.until(
        () => cli.stderr.includes('january-copy.csv: same content as january.csv'),
        'the duplicate',
      );

      await writeFile(path.join(inbox, 'february.csv'), salesCsv(80, 2));
      await cli.until(() => cli.summaries.length === 2, 'the second run');
      expect(cli.summaries[1]).toMatchObject({
        status: 'succeeded',
        tables: [{ name: 'february', rowsIn: 80 }],
      });
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    expect(cli.summaries).toHaveLength(2);
    expect(cli.stderr).not.toContain('notes.txt');
    expect(cli.stderr).not.toContain('.part.csv');

    const runIds = cli.summaries.map((s) => s.runId);
    expect((await readdir(path.join(dataDir, 'blobs', 'runs'))).sort()).toEqual([...runIds].sort());
    const state = JSON.parse(await readFile(path.join(dataDir, 'watch-state.json'), 'utf8')) as {
      files: Record<string, { name: string; runId: string }>;
    };
    expect(Object.values(state.files).map((f) => [f.name, f.runId])).toEqual([
      ['january.csv', runIds[0]],
      ['february.csv', runIds[1]],
    ]);
    const rows = await query(
      dataDir,
      `SELECT _run_id AS run, count(*) AS n
       FROM (SELECT _run_id FROM january UNION ALL SELECT _run_id FROM february) GROUP BY ALL ORDER BY n DESC`,
    );
    expect(rows.map((r) => r.run)).toEqual(runIds);
    expect(rows.map((r) => Number(r.n))).toEqual(cli.summaries.map((s) => s.tables[0]!.rowsLoaded));
  }, 60_000);
});
