import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type AlertRecord, type ConnectorContext, ConnectorError, type ConnectorHandler } from './types';

export const PUBSUB_PUBLISH = 'googleapis.pubsub.v1.projects.topics.publish';

interface PubsubMessage {
  data?: string;
  attributes?: Record<string, string>;
  orderingKey?: string;
}

function readMessages(args: Record<string, unknown>): { topic: string; messages: PubsubMessage[] } {
  const topic = args['topic'];
  if (typeof topic !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(topic)) {
    throw new ConnectorError(
      'ValueError',
      `pubsub publish: topic must be "projects/P/topics/T", got ${JSON.stringify(topic)}`,
    );
  }
  const body = args['body'];
  const messages = body && typeof body === 'object' && 'messages' in body ? body.messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ConnectorError('ValueError', 'pubsub publish: body.messages must be a non-empty list');
  }
  return { topic, messages: messages as PubsubMessage[] };
}

function decodeData(data: string | undefined): unknown {
  if (data === undefined) return null;
  const text = Buffer.from(data, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function writeRecord(record: AlertRecord, ctx: ConnectorContext): Promise<void> {
  const sink = ctx.alertSink;
  if (typeof sink === 'function') await sink(record);
  else if (typeof sink === 'string') {
    await mkdir(dirname(sink), { recursive: true });
    await appendFile(sink, `${JSON.stringify(record)}\n`);
  } else ctx.log('INFO', { pubsubPublish: record });
}

async function publishToEmulator(host: string, topic: string, messages: PubsubMessage[]): Promise<unknown> {
  // Same REST wire format as pubsub.googleapis.com: POST /v1/{topic}:publish {messages}.
  const url = `http://${host}/v1/${topic}:publish`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages }),
    });
  } catch (error) {
    throw new ConnectorError(
      'ConnectionFailedError',
      `pubsub emulator at ${url} unreachable: ${(error as Error).message}`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new ConnectorError('HttpError', `HTTP server responded with error code ${response.status}`, {
      code: response.status,
      body: text,
    });
  }
  return JSON.parse(text);
}

/**
 * `googleapis.pubsub.v1.projects.topics.publish`: records each message in the local alert sink, or
 * forwards the request to a Pub/Sub emulator when one is configured. Resolves with `{messageIds}`.
 */
export const publishPubsubMessages: ConnectorHandler = async (args, ctx) => {
  const { topic, messages } = readMessages(args);
  if (ctx.pubsubEmulatorHost) return publishToEmulator(ctx.pubsubEmulatorHost, topic, messages);
  const messageIds: string[] = [];
  for (const message of messages) {
    const record: AlertRecord = {
      topic,
      messageId: randomUUID(),
      publishTime: new Date(ctx.now()).toISOString(),
      data: decodeData(message.data),
      attributes: message.attributes ?? {},
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
    };
    await writeRecord(record, ctx);
    messageIds.push(record.messageId);
  }
  return { messageIds };
};
