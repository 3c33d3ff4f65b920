/**
 * The custom metric descriptors declared in terraform/monitoring.tf (`google_monitoring_metric_descriptor`),
 * read with @cdktf/hcl2json, so the fake Monitoring API checks writes against exactly what Terraform
 * creates: same type, kind, value type and label keys.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import type { FakeMetricDescriptor, MetricKind, ValueType } from './fake-monitoring-server';

const MONITORING_TF = path.resolve(import.meta.dirname, '../../../terraform/monitoring.tf');

type Body = Record<string, unknown>;

export async function readTerraformMetricDescriptors(file = MONITORING_TF): Promise<FakeMetricDescriptor[]> {
  const json = (await parse(path.basename(file), readFileSync(file, 'utf8'))) as {
    resource?: Record<string, Record<string, Body[]>>;
  };
  const blocks = json.resource?.['google_monitoring_metric_descriptor'] ?? {};
  return Object.values(blocks).flatMap((bodies) =>
    bodies.map((body) => ({
      type: String(body['type']),
      metricKind: String(body['metric_kind']) as MetricKind,
      valueType: String(body['value_type']) as ValueType,
      unit: body['unit'] === undefined ? undefined : String(body['unit']),
      labels: ((body['labels'] as Body[] | undefined) ?? []).map((label) => String(label['key'])),
    })),
  );
}
