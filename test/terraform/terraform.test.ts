/**
 * Static checks of terraform/: no provider download, no cloud account. Every .tf file is parsed with
 * @cdktf/hcl2json (HCL -> JSON, expressions kept as "${...}" strings) and the invariants the
 * configuration promises are asserted: typed and described variables, references that resolve, no
 * public or primitive IAM, private buckets, the workflow read from workflows/etl.workflows.yaml, and
 * Cloud Run environments that match each service's zod config schema. `terraform fmt -check` runs
 * when terraform is on PATH.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { extractorConfigSchema } from '@etl/extractor/config';
import { insightsConfigSchema } from '@etl/insights/config';
import { loaderConfigSchema } from '@etl/loader/config';
import { transformerConfigSchema } from '@etl/transformer/config';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TERRAFORM_DIR = path.join(ROOT, 'terraform');
const WORKFLOW_FILE = path.join(ROOT, 'workflows/etl.workflows.yaml');
const RUNBOOK_FILE = path.join(ROOT, 'docs/runbook.md');

// hcl2json gives every block as a list of bodies; attributes are plain JSON values or "${expr}" strings.
type Body = Record<string, unknown>;
type Blocks = Record<string, Record<string, Body[]>>;

interface Config {
  files: string[];
  resources: Blocks;
  data: Blocks;
  variables: Record<string, Body[]>;
  locals: Set<string>;
  outputs: Record<string, Body[]>;
}

const PIPELINE_SCHEMAS = {
  extractor: extractorConfigSchema,
  transformer: transformerConfigSchema,
  loader: loaderConfigSchema,
} as const;

const PRIMITIVE_ROLE = /\broles\/(owner|editor|viewer)\b/;
const PUBLIC_MEMBER = /\ball(Authenticated)?Users\b/;

/** A Terraform interpolation as hcl2json renders it: tf('var.x') is the string "${var.x}". */
const tf = (expression: string): string => '$' + '{' + expression + '}';

let config: Config;
// Every string of the locals blocks, with where it is (config.locals keeps only the names).
const localStrings: Array<[string, string]> = [];

beforeAll(async () => {
  const files = readdirSync(TERRAFORM_DIR)
    .filter((name) => name.endsWith('.tf'))
    .sort();
  config = { files, resources: {}, data: {}, variables: {}, locals: new Set(), outputs: {} };
  for (const file of files) {
    const json = await parse(file, readFileSync(path.join(TERRAFORM_DIR, file), 'utf8'));
    mergeBlocks(config.resources, json['resource'], file);
    mergeBlocks(config.data, json['data'], file);
    mergeNamed(config.variables, json['variable'], file, 'variable');
    mergeNamed(config.outputs, json['output'], file, 'output');
    for (const body of (json['locals'] ?? []) as Body[]) {
      for (const name of Object.keys(body)) config.locals.add(name);
    }
    for (const [at, text] of strings(json['locals'] ?? [])) localStrings.push([`${file} locals ${at}`, text]);
  }
});

function mergeBlocks(target: Blocks, blocks: unknown, file: string): void {
  for (const [type, byName] of Object.entries((blocks ?? {}) as Blocks)) {
    target[type] ??= {};
    for (const [name, bodies] of Object.entries(byName)) {
      if (target[type][name]) throw new Error(`${type}.${name} declared twice (again in ${file})`);
      target[type][name] = bodies;
    }
  }
}

function mergeNamed(target: Record<string, Body[]>, blocks: unknown, file: string, kind: string): void {
  for (const [name, bodies] of Object.entries((blocks ?? {}) as Record<string, Body[]>)) {
    if (target[name]) throw new Error(`${kind} ${name} declared twice (again in ${file})`);
    target[name] = bodies;
  }
}

/** Every string inside a JSON value, with the path that leads to it (for messages). */
function* strings(value: unknown, at = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [at, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${at}[${i}]`);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* strings(item, at ? `${at}.${key}` : key);
  }
}

/** The expressions inside "${...}" interpolations of a string, braces balanced. */
function expressions(text: string): string[] {
  const found: string[] = [];
  for (let start = text.indexOf('${'); start !== -1; start = text.indexOf('${', start + 2)) {
    let depth = 0;
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) {
        found.push(text.slice(start + 2, i));
        break;
      }
    }
  }
  return found;
}

function allResourceStrings(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [kind, blocks] of [
    ['resource', config.resources],
    ['data', config.data],
  ] as const) {
    for (const [type, byName] of Object.entries(blocks)) {
      for (const [name, bodies] of Object.entries(byName)) {
        for (const [at, text] of strings(bodies)) out.push([`${kind} ${type}.${name} ${at}`, text]);
      }
    }
  }
  return out;
}

function only<T>(bodies: T[] | undefined, what: string): T {
  expect(bodies, `${what} is declared once`).toHaveLength(1);
  return bodies![0]!;
}

function resource(type: string, name: string): Body {
  return only(config.resources[type]?.[name], `${type}.${name}`);
}

function block(body: Body, key: string): Body {
  return only(body[key] as Body[] | undefined, `block ${key}`);
}

/** The container's env blocks: the static ones, then the bodies of `dynamic "env"` blocks. */
function envOf(service: Body): Body[] {
  return [...staticEnvOf(service), ...dynamicEnvOf(service).map((d) => d.content)];
}

function staticEnvOf(service: Body): Body[] {
  const container = block(block(service, 'template'), 'containers');
  return (container['env'] ?? []) as Body[];
}

/** `dynamic "env" { for_each = ..., content { name = ... } }` blocks: one optional variable each. */
function dynamicEnvOf(service: Body): Array<{ forEach: string; content: Body }> {
  const container = block(block(service, 'template'), 'containers');
  const dynamic = (container['dynamic'] ?? {}) as Record<string, Body[]>;
  const bodies = dynamic['env'] ?? [];
  return bodies.map((body) => ({
    forEach: String(body['for_each']),
    content: only(body['content'] as Body[] | undefined, 'dynamic env content'),
  }));
}

describe('terraform/ files', () => {
  it('follows the house layout: versions, variables, outputs and topic files', () => {
    for (const file of ['versions.tf', 'variables.tf', 'outputs.tf', 'storage.tf', 'services.tf', 'iam.tf']) {
      expect(config.files).toContain(file);
    }
  });

  it('gives every variable a type and a description', () => {
    const names = Object.keys(config.variables);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const variable = only(config.variables[name], `variable ${name}`);
      expect(variable['type'], `variable ${name} has a type`).toBeTypeOf('string');
      expect(String(variable['description'] ?? '').trim(), `variable ${name} has a description`).not.toBe('');
    }
  });

  it('gives every output a description', () => {
    for (const [name, bodies] of Object.entries(config.outputs)) {
      expect(String(only(bodies, `output ${name}`)['description'] ?? ''), `output ${name}`).not.toBe('');
    }
  });

  it('references only declared resources, data sources, variables and locals', () => {
    const missing: string[] = [];
    let checked = 0;
    const all = [
      ...allResourceStrings(),
      ...Object.entries(config.outputs).flatMap(([name, bodies]) =>
        [...strings(bodies)].map(([at, text]): [string, string] => [`output ${name} ${at}`, text]),
      ),
    ];
    for (const [where, text] of [...all, ...localStrings]) {
      for (const expression of expressions(text)) {
        for (const match of expression.matchAll(
          /(?<![\w.])(data\.)?(google_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g,
        )) {
          const [, isData, type, name] = match;
          const blocks = isData ? config.data : config.resources;
          checked++;
          if (!blocks[type!]?.[name!]) missing.push(`${where}: ${isData ?? ''}${type}.${name}`);
        }
        for (const match of expression.matchAll(/(?<![\w.])(var|local)\.([A-Za-z_][\w-]*)/g)) {
          const [, kind, name] = match;
          checked++;
          const declared = kind === 'var' ? name! in config.variables : config.locals.has(name!);
          if (!declared) missing.push(`${where}: ${kind}.${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
    // Guards the regular expressions themselves: the configuration has well over a hundred references.
    expect(checked).toBeGreaterThan(100);
  });
});

describe('IAM', () => {
  it('grants no primitive role (owner, editor, viewer)', () => {
    const offending = allResourceStrings().filter(([, text]) => PRIMITIVE_ROLE.test(text));
    expect(offending).toEqual([]);
  });

  it('makes nothing public: no allUsers or allAuthenticatedUsers member', () => {
    const offending = allResourceStrings().filter(([, text]) => PUBLIC_MEMBER.test(text));
    expect(offending).toEqual([]);
    for (const [name, bodies] of Object.entries(config.variables)) {
      const defaults = [...strings(only(bodies, `variable ${name}`)['default'])].map(([, text]) => text);
      expect(
        defaults.filter((text) => PUBLIC_MEMBER.test(text)),
        `variable ${name} default`,
      ).toEqual([]);
    }
  });

  it('lets only the workflow service account invoke the pipeline services', () => {
    const members = Object.values(config.resources['google_cloud_run_v2_service_iam_member'] ?? {}).flat();
    for (const service of Object.keys(PIPELINE_SCHEMAS)) {
      const bindings = members.filter((m) =>
        String(m['name']).includes(`google_cloud_run_v2_service.${service}.`),
      );
      expect(bindings, `invoker bindings of ${service}`).toHaveLength(1);
      expect(bindings[0]!['role']).toBe('roles/run.invoker');
      expect(bindings[0]!['member']).toBe(tf('google_service_account.sa["workflow"].member'));
    }
    expect(config.resources['google_cloud_run_v2_service_iam_binding']).toBeUndefined();
    expect(config.resources['google_cloud_run_v2_service_iam_policy']).toBeUndefined();
  });
});

describe('storage', () => {
  it('keeps every bucket private: uniform access, public access prevention enforced', () => {
    const buckets = Object.entries(config.resources['google_storage_bucket'] ?? {});
    expect(buckets.map(([name]) => name).sort()).toEqual(['inbox', 'run_data']);
    for (const [name, bodies] of buckets) {
      const bucket = only(bodies, `bucket ${name}`);
      expect(bucket['uniform_bucket_level_access'], `${name} uniform_bucket_level_access`).toBe(true);
      expect(bucket['public_access_prevention'], `${name} public_access_prevention`).toBe('enforced');
    }
  });

  it('deletes runs/ objects after run_data_retention_days', () => {
    const rule = block(resource('google_storage_bucket', 'run_data'), 'lifecycle_rule');
    const condition = block(rule, 'condition');
    expect(condition['age']).toBe(tf('var.run_data_retention_days'));
    expect(condition['matches_prefix']).toEqual(['runs/']);
    expect(block(rule, 'action')['type']).toBe('Delete');
  });
});

describe('BigQuery', () => {
  it('partitions sales by order_date and clusters it by region and category, protected from deletion', () => {
    const sales = resource('google_bigquery_table', 'sales');
    expect(block(sales, 'time_partitioning')).toMatchObject({ type: 'DAY', field: 'order_date' });
    expect(sales['clustering']).toEqual(['region', 'category']);
    expect(sales['deletion_protection']).toBe(tf('var.deletion_protection'));
    expect(resource('google_bigquery_table', 'sales_rejects')['deletion_protection']).toBe(
      tf('var.deletion_protection'),
    );
  });
});

describe('Cloud Run services', () => {
  for (const [service, schema] of Object.entries(PIPELINE_SCHEMAS)) {
    it(`${service}: sets only variables its config schema declares, ETL_MODE among them`, () => {
      const names = envOf(resource('google_cloud_run_v2_service', service)).map((env) => String(env['name']));
      const declared = Object.keys(schema.shape);
      const unknown = names.filter((name) => !declared.includes(name));
      expect(unknown, `env of ${service} not in services/${service}/src/config.ts`).toEqual([]);
      expect(names).toContain('ETL_MODE');
      expect(new Set(names).size, `no duplicate env in ${service}`).toBe(names.length);
      // Cloud Run sets PORT itself and refuses it in the service definition.
      expect(names).not.toContain('PORT');
    });
  }

  it('insights: sets only variables of its config schema (@etl/insights/config), ETL_MODE among them', () => {
    const names = envOf(resource('google_cloud_run_v2_service', 'insights')).map((env) =>
      String(env['name']),
    );
    const declared = Object.keys(insightsConfigSchema.shape);
    expect(names.filter((name) => !declared.includes(name))).toEqual([]);
    expect(names).toContain('ETL_MODE');
    expect(names).not.toContain('PORT');
    expect(new Set(names).size, 'no duplicate env in insights').toBe(names.length);
  });

  it('loader and insights: every read query is capped by var.bigquery_query_limits', () => {
    for (const service of ['loader', 'insights']) {
      const env = Object.fromEntries(
        staticEnvOf(resource('google_cloud_run_v2_service', service)).map((e) => [e['name'], e['value']]),
      );
      expect(env['BIGQUERY_MAX_BYTES_BILLED'], service).toBe(
        tf('tostring(var.bigquery_query_limits.max_bytes_billed)'),
      );
      expect(env['BIGQUERY_QUERY_TIMEOUT_MS'], service).toBe(
        tf('tostring(var.bigquery_query_limits.timeout_ms)'),
      );
    }
    // The insights app reads the run manifests (run history, freshness) and nothing else of the bucket.
    expect(resource('google_storage_bucket_iam_member', 'run_data_insights_reader')).toMatchObject({
      role: 'roles/storage.objectViewer',
      member: tf('google_service_account.sa["insights"].member'),
    });
  });

  it('loader: passes each Tableau setting only when its variable is set, the token from Secret Manager', () => {
    const loader = resource('google_cloud_run_v2_service', 'loader');
    const dynamic = Object.fromEntries(dynamicEnvOf(loader).map((d) => [String(d.content['name']), d]));
    const optional: Record<string, string> = {
      TABLEAU_SERVER_URL: 'tableau_server_url',
      TABLEAU_SITE: 'tableau_site',
      TABLEAU_TOKEN_NAME: 'tableau_token_name',
      TABLEAU_DATASOURCE_ID: 'tableau_datasource_id',
      TABLEAU_DATASOURCE_NAME: 'tableau_datasource_name',
      TABLEAU_WORKBOOK_ID: 'tableau_workbook_id',
    };
    for (const [name, variable] of Object.entries(optional)) {
      const env = dynamic[name];
      expect(env, `dynamic env ${name}`).toBeDefined();
      // Emitted only when the variable is non-empty, with the variable's value.
      expect(env!.forEach).toBe(tf(`var.${variable} == "" ? [] : [var.${variable}]`));
      expect(env!.content['value']).toBe(tf('env.value'));
      expect(config.variables[variable], `variable ${variable}`).toBeDefined();
      expect(only(config.variables[variable], variable)['default']).toBe('');
    }
    const secret = dynamic['TABLEAU_TOKEN_SECRET'];
    expect(secret, 'dynamic env TABLEAU_TOKEN_SECRET').toBeDefined();
    expect(secret!.forEach).toMatch(/^\$\{var\.tableau_server_url == "" \? \[\] : \[/);
    expect(block(block(secret!.content, 'value_source'), 'secret_key_ref')['secret']).toBe(
      tf('google_secret_manager_secret.tableau_pat_secret.secret_id'),
    );
    const metrics = staticEnvOf(loader).find((env) => env['name'] === 'METRICS_ENABLED');
    expect(metrics?.['value']).toBe(tf('var.loader_metrics_enabled ? "true" : "false"'));
    expect(loader['depends_on']).toEqual([tf('google_secret_manager_secret_iam_member.loader_tableau')]);
  });

  it('loader: may write metrics and read the Tableau secret, nothing more of either', () => {
    const writer = resource('google_project_iam_member', 'loader_metric_writer');
    expect(writer['role']).toBe('roles/monitoring.metricWriter');
    expect(writer['member']).toBe(tf('google_service_account.sa["loader"].member'));
    const access = resource('google_secret_manager_secret_iam_member', 'loader_tableau');
    expect(access['role']).toBe('roles/secretmanager.secretAccessor');
    expect(access['secret_id']).toBe(tf('google_secret_manager_secret.tableau_pat_secret.id'));
    expect(access['member']).toBe(tf('google_service_account.sa["loader"].member'));
    // The metric alert policies are on by default now that the loader writes the metrics.
    expect(
      only(config.variables['custom_metric_alerts_enabled'], 'custom_metric_alerts_enabled')['default'],
    ).toBe(true);
    expect(only(config.variables['loader_metrics_enabled'], 'loader_metrics_enabled')['default']).toBe(true);
  });

  it('runs the stages in gcp mode, listening on all interfaces', () => {
    for (const service of Object.keys(PIPELINE_SCHEMAS)) {
      const env = Object.fromEntries(
        envOf(resource('google_cloud_run_v2_service', service)).map((e) => [e['name'], e['value']]),
      );
      expect(env['ETL_MODE'], service).toBe(tf('local.common_env.ETL_MODE'));
      expect(env['HOST'], service).toBe(tf('local.common_env.HOST'));
    }
    expect(localStrings).toContainEqual([expect.stringContaining('common_env.ETL_MODE'), 'gcp']);
    expect(localStrings).toContainEqual([expect.stringContaining('common_env.HOST'), '0.0.0.0']);
  });

  it('takes secrets from Secret Manager, never as plain values', () => {
    for (const [name, bodies] of Object.entries(config.resources['google_cloud_run_v2_service'] ?? {})) {
      for (const env of envOf(only(bodies, name))) {
        // A token's name (TABLEAU_TOKEN_NAME) is an identifier, not a credential.
        const envName = String(env['name']);
        if (!/TOKEN|SECRET|PASSWORD|_KEY$/.test(envName) || envName.endsWith('_NAME')) continue;
        expect(env['value'], `${name} ${env['name']}`).toBeUndefined();
        const ref = block(block(env, 'value_source'), 'secret_key_ref');
        expect(String(ref['secret'])).toMatch(/^\$\{google_secret_manager_secret\.\w+\.secret_id\}$/);
      }
    }
    const kaggle = envOf(resource('google_cloud_run_v2_service', 'extractor')).find(
      (env) => env['name'] === 'KAGGLE_API_TOKEN',
    );
    expect(kaggle, 'the extractor gets the Kaggle token').toBeDefined();
  });

  it('probes /healthz at startup', () => {
    for (const [name, bodies] of Object.entries(config.resources['google_cloud_run_v2_service'] ?? {})) {
      const container = block(block(only(bodies, name), 'template'), 'containers');
      expect(block(block(container, 'startup_probe'), 'http_get')['path'], name).toBe('/healthz');
    }
  });
});

describe('workflow and triggers', () => {
  it('deploys workflows/etl.workflows.yaml unchanged, through file()', () => {
    const workflow = resource('google_workflows_workflow', 'pipeline');
    expect(workflow['source_contents']).toBe(
      tf(`file("${tf('path.module')}/../workflows/etl.workflows.yaml")`),
    );
  });

  it('sets every environment variable the workflow reads without a default, and only those it reads', () => {
    const yaml = readFileSync(WORKFLOW_FILE, 'utf8');
    const read = [...yaml.matchAll(/sys\.get_env\(\s*"([A-Z0-9_]+)"\s*(,)?/g)].filter(
      // Built in, set by Workflows: GOOGLE_CLOUD_PROJECT_ID, GOOGLE_CLOUD_LOCATION, GOOGLE_CLOUD_WORKFLOW_*.
      ([, name]) =>
        !/^GOOGLE_CLOUD_(PROJECT_ID|LOCATION|WORKFLOW_ID|WORKFLOW_REVISION_ID|WORKFLOW_EXECUTION_ID)$/.test(
          name!,
        ),
    );
    const required = new Set(read.filter(([, , comma]) => comma === undefined).map(([, name]) => name!));
    const all = new Set(read.map(([, name]) => name!));
    expect(required.size).toBeGreaterThan(0);
    const set = Object.keys(resource('google_workflows_workflow', 'pipeline')['user_env_vars'] as Body);
    expect(
      [...required].filter((name) => !set.includes(name)),
      'required but not set',
    ).toEqual([]);
    expect(
      set.filter((name) => !all.has(name)),
      'set but never read',
    ).toEqual([]);
  });

  it('runs the ML stage on Google Cloud (its SQL is BigQuery-ready)', () => {
    const env = resource('google_workflows_workflow', 'pipeline')['user_env_vars'] as Body;
    expect(env['ML_INSIGHTS']).toBe('true');
  });

  it('starts executions from Cloud Scheduler with an OAuth token and a JSON-string argument', () => {
    const target = block(resource('google_cloud_scheduler_job', 'pipeline'), 'http_target');
    expect(target['uri']).toBe(
      `https://workflowexecutions.googleapis.com/v1/${tf('google_workflows_workflow.pipeline.id')}/executions`,
    );
    expect(String(target['body'])).toMatch(/^\$\{base64encode\(jsonencode\(\{\s*argument\s*=\s*jsonencode\(/);
    expect(block(target, 'oauth_token')['scope']).toBe('https://www.googleapis.com/auth/cloud-platform');
    expect(target['oidc_token']).toBeUndefined();
  });

  it('routes inbox uploads and run requests to the workflow through Eventarc', () => {
    const triggers = config.resources['google_eventarc_trigger'] ?? {};
    const types = Object.values(triggers).map((bodies) => {
      const trigger = only(bodies, 'trigger');
      expect(block(trigger, 'destination')['workflow']).toBe(tf('google_workflows_workflow.pipeline.id'));
      return (trigger['matching_criteria'] as Body[]).find((c) => c['attribute'] === 'type')?.['value'];
    });
    expect(types.sort()).toEqual([
      'google.cloud.pubsub.topic.v1.messagePublished',
      'google.cloud.storage.object.v1.finalized',
    ]);
  });
});

describe('alerting', () => {
  it('notifies the configured channels and links every policy to an existing runbook section', () => {
    const runbook = readFileSync(RUNBOOK_FILE, 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading]) =>
        heading!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const policies = Object.entries(config.resources['google_monitoring_alert_policy'] ?? {});
    expect(policies.length).toBeGreaterThanOrEqual(4);
    for (const [name, bodies] of policies) {
      const policy = only(bodies, name);
      expect(policy['notification_channels'], name).toBe(tf('local.notification_channels'));
      const content = String(block(policy, 'documentation')['content']);
      const anchor = content.match(/\$\{var\.runbook_url\}#([\w-]+)/)?.[1];
      expect(anchor, `${name} links to a runbook section`).toBeDefined();
      expect([...anchors], `${name}: docs/runbook.md has a heading for #${anchor}`).toContain(anchor);
    }
  });
});

describe('terraform fmt', () => {
  const hasTerraform = spawnSync('terraform', ['version'], { stdio: 'ignore' }).status === 0;
  if (!hasTerraform) {
    console.warn('skipping terraform fmt -check: terraform is not on PATH');
  }
  it.skipIf(!hasTerraform)('passes terraform fmt -check -recursive terraform', () => {
    const result = spawnSync('terraform', ['fmt', '-check', '-recursive', 'terraform'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.stdout, 'files terraform fmt would rewrite').toBe('');
    expect(result.status).toBe(0);
  });
});
