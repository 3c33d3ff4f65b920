import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { renderConfigDocs, renderEnvExample } from '../../scripts/config-docs';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('docs/configuration.md documents every config variable (regenerate with pnpm docs:config)', () => {
  expect(readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8')).toBe(renderConfigDocs());
});

test('.env.example lists every config variable (regenerate with pnpm docs:config)', () => {
  expect(readFileSync(path.join(ROOT, '.env.example'), 'utf8')).toBe(renderEnvExample());
});
