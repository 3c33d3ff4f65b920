/**
 * A small, honest fake of the Cloud Monitoring API v3 for tests: `projects.timeSeries.create` as the
 * official Node client sends it in REST mode (`fallback: true`):
 *
 *   POST /v3/projects/{project}/timeSeries?$alt=json;enum-encoding=int
 *   {"timeSeries":[{"metric":{"type","labels"},"resource":{"type","labels"},"metricKind"?,"valueType"?,
 *                   "points":[{"interval":{"endTime":"<RFC 3339>"},"value":{"int64Value":"5"}}]}]}
 *
 * It checks what the real API checks for our use: at most 200 series per request, one point per series,
 * a value of exactly one type, an end time, no duplicate series in a request, points written in order,
 * the `global` resource's labels, and, for a metric type with a descriptor (given, e.g. read from
 * terraform/monitoring.tf, or created by the first write as the API does for custom metrics), the value
 * type, the metric kind and the label keys. Errors are Google's JSON shape, `{"error":{"code","message",
 * "status"}}`. A request is applied all or nothing (the real API may write the valid series of a request
 * that also holds invalid ones). Faults: `inject({ status, times })`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listen, readBody } from '../http';

export type MetricKind = 'GAUGE' | 'DELTA' | 'CUMULATIVE';
export type ValueType = 'BOOL' | 'INT64' | 'DOUBLE' | 'STRING' | 'DISTRIBUTION';

export interface FakeMetricDescriptor {
  type: string;
  metricKind: MetricKind;
  valueType: ValueType;
  labels: string[];
  unit?: string;
}

export interface FakeMonitoringPoint {
  endTime: string;
  value: number | boolean | string;
}

export interface FakeMonitoringSeries {
  project: string;
  metricType: string;
  metricLabels: Record<string, string>;
  resourceType: string;
  resourceLabels: Record<string, string>;
  points: FakeMonitoringPoint[];
}

export interface FakeMonitoringRequest {
  method: string;
  path: string;
  authorization: boolean;
  status: number;
  body?: unknown;
}

export interface FakeMonitoringFault {
  status: number;
  times?: number;
  message?: string;
}

export interface FakeMonitoring {
  url: string;
  requests: FakeMonitoringRequest[];
  series: FakeMonitoringSeries[];
  descriptors: Map<string, FakeMetricDescriptor>;
  /** The series of a metric type whose labels include `labels`. */
  find(metricType: string, labels?: Record<string, string>): FakeMonitoringSeries[];
  inject(fault: FakeMonitoringFault): void;
  close(): Promise<void>;
}

export interface FakeMonitoringOptions {
  descriptors?: FakeMetricDescriptor[];
}

const METRIC_KINDS: Record<number, MetricKind> = { 1: 'GAUGE', 2: 'DELTA', 3: 'CUMULATIVE' };
const VALUE_TYPES: Record<number, ValueType> = {
  1: 'BOOL',
  2: 'INT64',
  3: 'DOUBLE',
  4: 'STRING',
  5: 'DISTRIBUTION',
};
const VALUE_FIELDS: Record<string, ValueType> = {
  boolValue: 'BOOL',
  int64Value: 'INT64',
  doubleValue: 'DOUBLE',
  stringValue: 'STRING',
  distributionValue: 'DISTRIBUTION',
};
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
/** Labels the API allows on the monitored resources this fake knows. */
const RESOURCE_LABELS: Record<string, string[]> = {
  global: ['project_id'],
  generic_task: ['project_id', 'location', 'namespace', 'job', 'task_id'],
};

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const seriesKey = (s: Omit<FakeMonitoringSeries, 'points'>) =>
  JSON.stringify([
    s.project,
    s.metricType,
    Object.entries(s.metricLabels).sort(),
    s.resourceType,
    Object.entries(s.resourceLabels).sort(),
  ]);

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const asLabels = (value: unknown, where: string): Record<string, string> => {
  const labels: Record<string, string> = {};
  for (const [key, v] of Object.entries(asRecord(value))) {
    if (typeof v !== 'string') throw new ApiError(400, `Field ${where}.${key} must be a string`);
    labels[key] = v;
  }
  return labels;
};

/** An RFC 3339 timestamp as the REST client sends it, or `{seconds, nanos}`. */
function parseTime(value: unknown, where: string): string {
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
  const record = asRecord(value);
  if (record.seconds !== undefined) {
    const ms = Number(record.seconds) * 1000 + Math.floor(Number(record.nanos ?? 0) / 1e6);
    return new Date(ms).toISOString();
  }
  throw new ApiError(400, `Field ${where} is required and must be a timestamp`);
}

export async function startFakeMonitoring(options: FakeMonitoringOptions = {}): Promise<FakeMonitoring> {
  const descriptors = new Map((options.descriptors ?? []).map((d) => [d.type, structuredClone(d)]));
  const requests: FakeMonitoringRequest[] = [];
  const stored = new Map<string, FakeMonitoringSeries>();
  const series: FakeMonitoringSeries[] = [];
  const faults: FakeMonitoringFault[] = [];

  const createTimeSeries = (project: string, body: unknown): void => {
    const list = asRecord(body).timeSeries;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ApiError(400, 'Field timeSeries is required and must hold at least one time series');
    }
    if (list.length > 200) {
      throw new ApiError(400, `Field timeSeries had ${list.length} elements; at most 200 are allowed`);
    }
    const parsed: Array<{ key: string; entry: FakeMonitoringSeries; descriptor: FakeMetricDescriptor }> = [];
    const created = new Map<string, FakeMetricDescriptor>();
    list.forEach((raw, i) => {
      const where = `timeSeries[${i}]`;
      const ts = asRecord(raw);
      const metric = asRecord(ts.metric);
      const resource = asRecord(ts.resource);
      const metricType = metric.type;
      if (typeof metricType !== 'string' || metricType === '') {
        throw new ApiError(400, `Field ${where}.metric.type is required`);
      }
      if (!metricType.startsWith('custom.googleapis.com/') && !descriptors.has(metricType)) {
        throw new ApiError(400, `${where}: metric type ${metricType} is not a custom metric this fake knows`);
      }
      const resourceType = resource.type;
      if (typeof resourceType !== 'string' || !(resourceType in RESOURCE_LABELS)) {
        throw new ApiError(400, `${where}: unsupported monitored resource type ${String(resourceType)}`);
      }
      const resourceLabels = asLabels(resource.labels, `${where}.resource.labels`);
      for (const key of Object.keys(resourceLabels)) {
        if (!RESOURCE_LABELS[resourceType]!.includes(key)) {
          throw new ApiError(400, `${where}: resource ${resourceType} has no label ${key}`);
        }
      }
      const metricLabels = asLabels(metric.labels, `${where}.metric.labels`);
      const points = Array.isArray(ts.points) ? ts.points : [];
      if (points.length !== 1) {
        throw new ApiError(400, `${where}: expected exactly one point per time series, got ${points.length}`);
      }
      const point = asRecord(points[0]);
      const endTime = parseTime(asRecord(point.interval).endTime, `${where}.points[0].interval.endTime`);
      const valueFields = Object.keys(asRecord(point.value)).filter((k) => k in VALUE_FIELDS);
      if (valueFields.length !== 1) {
        throw new ApiError(400, `${where}: a point must hold exactly one value, got ${valueFields.length}`);
      }
      const valueField = valueFields[0]!;
      const valueType = VALUE_FIELDS[valueField]!;
      const rawValue = asRecord(point.value)[valueField];
      const value =
        valueType === 'INT64' || valueType === 'DOUBLE'
          ? Number(rawValue)
          : (rawValue as boolean | string | number);
      if (valueType === 'INT64' && !Number.isInteger(value)) {
        throw new ApiError(400, `${where}: int64Value ${String(rawValue)} is not an integer`);
      }
      const kind = enumName(ts.metricKind, METRIC_KINDS) ?? 'GAUGE';
      const declaredType = enumName(ts.valueType, VALUE_TYPES);
      if (declaredType && declaredType !== valueType) {
        throw new ApiError(
          400,
          `${where}: valueType ${declaredType} does not match the point's ${valueType}`,
        );
      }
      let descriptor = descriptors.get(metricType) ?? created.get(metricType);
      if (!descriptor) {
        // The API creates a custom metric's descriptor from its first write.
        descriptor = { type: metricType, metricKind: kind, valueType, labels: Object.keys(metricLabels) };
        created.set(metricType, descriptor);
      }
      if (descriptor.valueType !== valueType) {
        throw new ApiError(
          400,
          `${where}: Value type for metric ${metricType} must be ${descriptor.valueType}, but is ${valueType}.`,
        );
      }
      if (descriptor.metricKind !== kind) {
        throw new ApiError(
          400,
          `${where}: metric kind of ${metricType} must be ${descriptor.metricKind}, but is ${kind}.`,
        );
      }
      for (const key of Object.keys(metricLabels)) {
        if (!descriptor.labels.includes(key)) {
          throw new ApiError(
            400,
            `${where}: metric label ${key} is not defined in the descriptor of ${metricType} (labels: ${descriptor.labels.join(', ')})`,
          );
        }
      }
      const entry: FakeMonitoringSeries = {
        project,
        metricType,
        metricLabels,
        resourceType,
        resourceLabels,
        points: [{ endTime, value }],
      };
      const key = seriesKey(entry);
      if (parsed.some((p) => p.key === key)) {
        throw new ApiError(400, `${where}: duplicate time series in one request (${metricType})`);
      }
      const previous = stored.get(key)?.points.at(-1);
      if (previous && Date.parse(previous.endTime) >= Date.parse(endTime)) {
        throw new ApiError(
          400,
          `${where}: Points must be written in order. One or more of the points specified had an older start time than the most recent point.`,
        );
      }
      parsed.push({ key, entry, descriptor });
    });
    for (const [type, descriptor] of created) descriptors.set(type, descriptor);
    for (const { key, entry } of parsed) {
      const existing = stored.get(key);
      if (existing) existing.points.push(...entry.points);
      else {
        stored.set(key, entry);
        series.push(entry);
      }
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: FakeMonitoringRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      authorization: typeof req.headers.authorization === 'string',
      status: 0,
    };
    requests.push(entry);
    readBody(req)
      .then((text) => {
        const fault = faults[0];
        if (fault) {
          if (fault.times !== undefined && --fault.times <= 0) faults.shift();
          throw new ApiError(fault.status, fault.message ?? `injected ${fault.status}`);
        }
        const match = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec(url.pathname);
        if (req.method !== 'POST' || !match) {
          throw new ApiError(404, `no route ${req.method} ${url.pathname} in the fake Monitoring API`);
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new ApiError(400, 'Invalid JSON payload received.');
        }
        entry.body = body;
        createTimeSeries(decodeURIComponent(match[1]!), body);
        entry.status = 200;
        sendJson(res, 200, {});
      })
      .catch((error: unknown) => {
        const code = error instanceof ApiError ? error.code : 500;
        entry.status = code;
        sendJson(res, code, {
          error: {
            code,
            message: error instanceof Error ? error.message : String(error),
            status: STATUS_NAMES[code] ?? 'UNKNOWN',
          },
        });
      });
  });
  const url = await listen(server);

  return {
    url,
    requests,
    series,
    descriptors,
    find: (metricType, labels = {}) =>
      series.filter(
        (s) =>
          s.metricType === metricType && Object.entries(labels).every(([k, v]) => s.metricLabels[k] === v),
      ),
    inject: (fault) => {
      faults.push({ ...fault });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function enumName<T extends string>(value: unknown, byNumber: Record<number, T>): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return byNumber[value];
  return Object.values(byNumber).includes(value as T) ? (value as T) : undefined;
}
