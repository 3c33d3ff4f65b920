/** A message recorded by the local Pub/Sub publish connector. */
export interface AlertRecord {
  topic: string;
  messageId: string;
  /** RFC 3339 publish time. */
  publishTime: string;
  /** The base64 `data`, decoded and parsed as JSON when possible, else text. */
  data: unknown;
  attributes: Record<string, string>;
  orderingKey?: string;
}

/** Where published messages go locally: a callback, or a JSON-lines file path. */
export type AlertSink = ((record: AlertRecord) => void | Promise<void>) | string;

/** Services available to a connector handler. */
export interface ConnectorContext {
  /** Workflow user env vars as given to the runner. */
  env: Readonly<Record<string, string>>;
  /** Current time in epoch milliseconds (the runner's clock). */
  now(): number;
  log(severity: string, payload: unknown): void;
  alertSink?: AlertSink;
  /** `host:port` of a Pub/Sub emulator; when set, messages are POSTed there instead of the sink. */
  pubsubEmulatorHost?: string;
}

/**
 * Local implementation of a `googleapis.*` call. `args` is the call's `args` as plain JSON data; the
 * resolved value becomes the step `result`. Throw a `ConnectorError` to raise a Workflows error map.
 */
export type ConnectorHandler = (args: Record<string, unknown>, ctx: ConnectorContext) => Promise<unknown>;

/** Raised by connector handlers to produce a Workflows error map with the given tag. */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    readonly tag: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
