import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFakeClock, runYaml, runYamlError } from '../test-support';
import type { AlertRecord } from './types';

const publish = `
main:
  params: [msg]
  steps:
    - publish:
        call: googleapis.pubsub.v1.projects.topics.publish
        args:
          topic: "projects/local/topics/etl-alerts"
          body:
            messages:
              - data: \${base64.encode(json.encode(msg))}
                attributes:
                  severity: "ERROR"
        result: published
    - done:
        return: \${published}
`;

describe('pubsub publish connector', () => {
  it('records decoded messages with topic, attributes and publish time in a callback sink', async () => {
    const records: AlertRecord[] = [];
    const clock = createFakeClock(Date.UTC(2024, 4, 1));
    const result = (await runYaml(
      publish,
      { step: 'load', code: 503 },
      { alertSink: (record) => void records.push(record), clock },
    )) as {
      messageIds: string[];
    };
    expect(records).toEqual([
      {
        topic: 'projects/local/topics/etl-alerts',
        messageId: result.messageIds[0],
        publishTime: '2024-05-01T00:00:00.000Z',
        data: { step: 'load', code: 503 },
        attributes: { severity: 'ERROR' },
      },
    ]);
  });

  it('appends JSON lines to a sink file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'wf-pubsub-')), 'alerts', 'alerts.jsonl');
    await runYaml(publish, 'plain text', { alertSink: file });
    await runYaml(publish, 'second', { alertSink: file });
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.data)).toEqual(['plain text', 'second']);
  });

  it('POSTs the REST wire format to the emulator when PUBSUB_EMULATOR_HOST is set', async () => {
    const requests: Array<{ url: string; body: unknown }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ url: req.url ?? '', body: JSON.parse(body) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ messageIds: ['42'] }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runYaml(publish, 'hi', { env: { PUBSUB_EMULATOR_HOST: host } });
      expect(result).toEqual({ messageIds: ['42'] });
      expect(requests).toEqual([
        {
          url: '/v1/projects/local/topics/etl-alerts:publish',
          body: {
            messages: [{ data: Buffer.from('"hi"').toString('base64'), attributes: { severity: 'ERROR' } }],
          },
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('raises ValueError for a malformed topic', async () => {
    const error = await runYamlError(publish.replace('projects/local/topics/etl-alerts', 'etl-alerts'), 'x', {
      alertSink: () => {},
    });
    expect(error.tags).toEqual(['ValueError']);
  });

  it('runs custom connectors registered by name', async () => {
    const yaml =
      '- q:\n    call: googleapis.bigquery.v2.jobs.query\n    args:\n      projectId: p\n    result: r\n- d:\n    return: ${r.rows}\n';
    const result = await runYaml(yaml, undefined, {
      connectors: { 'googleapis.bigquery.v2.jobs.query': async (args) => ({ rows: [args['projectId']] }) },
    });
    expect(result).toEqual(['p']);
  });
});
