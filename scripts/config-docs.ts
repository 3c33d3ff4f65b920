/**
 * `pnpm docs:config`: writes docs/configuration.md and .env.example from the services' zod config
 * schemas, so the documentation cannot drift from what the code accepts (a test compares them).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeConfig } from '@etl/common/config';
import { extractorConfigSchema } from '@etl/extractor/config';
import { insightsConfigSchema } from '@etl/insights/config';
import { loaderConfigSchema } from '@etl/loader/config';
import { transformerConfigSchema } from '@etl/transformer/config';

const ROOT = path.resolve(import.meta.dirname, '..');

const SERVICES = [
  { name: 'extractor', schema: extractorConfigSchema },
  { name: 'transformer', schema: transformerConfigSchema },
  { name: 'loader', schema: loaderConfigSchema },
  { name: 'insights', schema: insightsConfigSchema },
];

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    'Generated from the zod schemas in `services/*/src/config.ts` by `pnpm docs:config`; do not edit by hand.',
    'Each service reads only the environment. The `etl` CLI sets `ETL_DATA_DIR`, `HOST` and `PORT` for the',
    'services it starts; every other variable is passed through from its own environment.',
    '',
  ];
  for (const { name, schema } of SERVICES) {
    lines.push(`## ${name}`, '', '| variable | default | description |', '| --- | --- | --- |');
    for (const row of describeConfig(schema)) {
      lines.push(
        `| \`${row.name}\` | ${row.default ? `\`${cell(row.default)}\`` : ''} | ${cell(row.description)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderEnvExample(): string {
  const seen = new Set<string>();
  const lines = [
    '# Every variable the services read; see docs/configuration.md. Values shown are the defaults.',
    '',
  ];
  for (const { name, schema } of SERVICES) {
    const rows = describeConfig(schema).filter((row) => !seen.has(row.name));
    if (rows.length === 0) continue;
    lines.push(`# ${name}`);
    for (const row of rows) {
      seen.add(row.name);
      lines.push(`# ${row.description}`, `${row.default ? '' : '# '}${row.name}=${row.default}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (import.meta.filename === process.argv[1]) {
  writeFileSync(path.join(ROOT, 'docs/configuration.md'), renderConfigDocs());
  writeFileSync(path.join(ROOT, '.env.example'), renderEnvExample());
  console.log('wrote docs/configuration.md and .env.example');
}
