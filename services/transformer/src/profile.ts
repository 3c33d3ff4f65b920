/**
 * Dataset profiles: YAML files in `profiles/` that tell the transformer how to read and clean one
 * dataset (source dialect, per-column types and formats, missing values, text normalisation, keys,
 * quality checks, warehouse layout, ML features). Validated with zod; every error names the file, the
 * line and column (yaml's LineCounter) and the field, e.g.
 * `profiles/superstore.yaml:14:11: columns[2].type: expected one of integer, number, ...`.
 *
 * A profile only needs what differs from automatic inference: columns it does not list are inferred.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONTRACT_MODES } from '@etl/common/contracts';
import { InvalidRequestError, NotFoundError } from '@etl/common/errors';
import { COLUMN_NAME } from '@etl/common/names';
import { ROLE_NAMES, type RoleName } from '@etl/common/roles';
import { isNode, LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { CHECK_RULE, parseCheckRule } from './checks';
import { LEGACY_ENCODINGS } from './detect-encoding';
import { EXCEL_SERIAL, isEpochFormat } from './epoch-formats';
import type { ColumnType } from './infer-types';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, 'expected a snake_case name: lower-case letters, digits and _ starting with a letter');
/** A column's name, as the transformer writes it (column-names.ts): letters of any script are kept. */
const columnName = z
  .string()
  .regex(
    COLUMN_NAME,
    'expected a snake_case name: lower-case letters (of any script), digits and _ starting with a letter',
  );

/** Profile type names -> DuckDB types of the staged table. */
export const PROFILE_TYPES = {
  integer: 'BIGINT',
  number: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  time: 'TIME',
  boolean: 'BOOLEAN',
  string: 'VARCHAR',
} as const satisfies Record<string, ColumnType>;
export type ProfileType = keyof typeof PROFILE_TYPES;

export function profileTypeOf(type: ColumnType): ProfileType {
  const found = Object.entries(PROFILE_TYPES).find(([, sql]) => sql === type);
  return found![0] as ProfileType;
}

/**
 * Values read as missing in typed columns, compared case-insensitively. `\\N` is the NULL of MySQL and
 * PostgreSQL text dumps; `NaN` and `<NA>` are what numpy and pandas print for a missing value; `#N/A` and
 * Excel's other error values (`#DIV/0!` in the margin of a zero sale, `#REF!`, `#VALUE!`, ..., and Google
 * Sheets' `#ERROR!`) are a formula without a result, saved as its error's code; `0000-00-00` (and with a
 * time) is MySQL's zero date, which its exports write for a date never set (a shipping date of an order not
 * shipped). Dashes of every length stand for nothing in reports (`--`, and word processors' `–` and `—`);
 * `?` in the UCI repository's files (Heart Disease's `?` in its number columns). A profile's default, and
 * the inference's (`MISSING_TOKENS`).
 */
export const DEFAULT_MISSING_TOKENS = [
  'NA',
  'N/A',
  'null',
  'None',
  '-',
  '--',
  '–',
  '—',
  '?',
  '\\N',
  'NaN',
  '<NA>',
  '#N/A',
  '#DIV/0!',
  '#VALUE!',
  '#REF!',
  '#NAME?',
  '#NUM!',
  '#NULL!',
  '#ERROR!',
  '0000-00-00',
  '0000-00-00 00:00:00',
] as const;

export const textRuleSchema = z
  .object({
    trim: z.boolean().default(true).describe('Remove leading and trailing blanks (always done for ASCII).'),
    unicode: z
      .enum(['none', 'NFC', 'NFKC'])
      .default('none')
      .describe('Unicode normalisation form; NFKC also folds compatibility characters (e.g. NBSP -> space).'),
    nbsp: z.boolean().default(false).describe('Replace no-break spaces (U+00A0, U+202F) by a normal space.'),
    collapseSpaces: z.boolean().default(false).describe('Collapse runs of spaces inside the value to one.'),
  })
  .strict();
export type TextRule = z.infer<typeof textRuleSchema>;

export const missingStrategySchema = z.union([
  z.enum(['keep', 'reject']),
  z
    .object({
      impute: z.enum(['median', 'mode', 'constant']),
      value: z.union([z.string(), z.number(), z.boolean()]).optional().describe('For impute: constant.'),
    })
    .strict(),
]);
export type MissingStrategy = z.infer<typeof missingStrategySchema>;

export const columnProfileSchema = z
  .object({
    name: columnName.describe('Column name in the staged table (snake_case).'),
    source: z
      .string()
      .min(1)
      .optional()
      .describe('Header text in the file; by default the header whose snake_case form is `name`.'),
    type: z.enum(Object.keys(PROFILE_TYPES) as [ProfileType, ...ProfileType[]]).optional(),
    format: z
      .string()
      .min(2)
      .optional()
      .describe(
        'strptime format of a date or timestamp column, e.g. %m/%d/%Y, or several joined by | (tried in turn); unix_seconds / unix_milliseconds for a timestamp column of integer Unix times; excel_serial for a date column of Excel serial numbers.',
      ),
    ambiguous: z
      .boolean()
      .optional()
      .describe('Written by `etl profile` when two date formats fit; set `format` and remove it.'),
    candidates: z.array(z.string()).optional().describe('The date formats that fit, with `ambiguous`.'),
    thousands: z.enum([',', '.', ' ', "'"]).optional().describe('Thousands separator of a number column.'),
    decimal: z.enum(['.', ',']).optional().describe('Decimal mark of a number column (default `.`).'),
    currency: z
      .string()
      .regex(/^[^0-9.,+\-() ]{1,3}$/)
      .optional()
      .describe(
        'Currency symbol or code of a number column of money, dropped before reading it: `$` reads `$1,234.50`, `($5)` as -5; `USD` reads `USD 12.50`; a code also with a dot: `Rs` reads `Rs. 1,299`.',
      ),
    percent: z
      .boolean()
      .optional()
      .describe('A number column of percentages: `12%` (and `12`) read as 0.12.'),
    pad: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Left-pad all-digit values with zeros to this width (a ZIP code: 5).'),
    pattern: z
      .string()
      .min(1)
      .optional()
      .describe('RE2 pattern the whole value must match (after padding), else the row is quarantined.'),
    required: z
      .boolean()
      .optional()
      .describe('The header must have this column and every row a value (else missing_required).'),
    missing: missingStrategySchema.optional().describe('keep (default), reject, or impute with a flag.'),
    missingTokens: z
      .array(z.string())
      .optional()
      .describe('Values read as missing in this column (compared case-insensitively); [] keeps NA etc.'),
    text: textRuleSchema.partial().optional().describe('Text normalisation, over the profile-wide `text`.'),
    categorical: z.boolean().optional().describe('A low-cardinality label column.'),
    encode: z
      .enum(['none', 'onehot', 'ordinal'])
      .optional()
      .describe('How ML feature tables encode this categorical column.'),
    normalize: z
      .array(z.enum(['zscore', 'minmax']))
      .optional()
      .describe('Adds <name>_z and/or <name>_mm columns; the column keeps its units.'),
    outliers: z.boolean().optional().describe('Adds <name>_outlier: robust z-score (median/MAD) above 3.5.'),
  })
  .strict();
export type ColumnProfile = z.infer<typeof columnProfileSchema>;

export const checkSchema = z
  .object({
    name: identifier.describe('Check name, reported in `checks`.'),
    rule: z
      .string()
      .regex(CHECK_RULE, "expected `<column> <op> <column|number|'text'>` with op one of >= <= > < = !=")
      .describe('e.g. ship_date >= order_date; a row where either side is NULL passes.'),
    severity: z
      .enum(['warning', 'reject', 'error'])
      .default('warning')
      .describe('warning: counted; reject: failing rows quarantined; error: the run fails above maxRate.'),
    maxRate: z.number().min(0).max(1).optional().describe('Share of rows allowed to fail (default 0).'),
  })
  .strict();
export type CheckProfile = z.infer<typeof checkSchema>;

export const FEATURE_TABLES = ['daily_region', 'daily_product', 'customers_rfm', 'orders'] as const;
export type FeatureTableKind = (typeof FEATURE_TABLES)[number];

export const ML_ROLES = [
  'order_id',
  'order_date',
  'ship_date',
  'customer_id',
  'product_id',
  'region',
  'sales',
  'quantity',
  'discount',
  'profit',
] as const;
export type MlRole = (typeof ML_ROLES)[number];

export const mlSchema = z
  .object({
    tables: z.array(z.enum(FEATURE_TABLES)).default([...FEATURE_TABLES]),
    roles: z
      .object(
        Object.fromEntries(ML_ROLES.map((role) => [role, columnName.optional()])) as Record<
          MlRole,
          z.ZodOptional<typeof columnName>
        >,
      )
      .strict()
      .default({})
      .describe('Which column plays each role; by default the column of the same name.'),
  })
  .strict();

/** A column named by a role: its name in the staged table or its header in the file. */
const roleColumn = z.string().min(1);

export const rolesProfileSchema = z
  .object({
    ...(Object.fromEntries(
      ROLE_NAMES.map((role) => [
        role,
        roleColumn.nullable().optional().describe(`The column of the ${role} role; null: no column has it.`),
      ]),
    ) as Record<RoleName, z.ZodOptional<z.ZodNullable<typeof roleColumn>>>),
    dimensions: z
      .array(roleColumn)
      .optional()
      .describe('The columns to break revenue down by, best first, instead of the inferred ones.'),
  })
  .strict()
  .describe(
    'Column roles over the inferred ones (event_time, amount, quantity, unit_price, order_id, customer_id, ' +
      'customer_name, product_id, product_name, profit, discount, event_type, dimensions); a role left out ' +
      'stays inferred.',
  );
export type RolesProfile = z.infer<typeof rolesProfileSchema>;

export const profileSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    source: z
      .object({
        files: z
          .array(z.string().min(1))
          .optional()
          .describe('Globs (* and ?) of the raw file names to read; by default every *.csv.'),
        encoding: z.enum(['auto', 'utf-8', 'windows-1252', ...LEGACY_ENCODINGS]).default('auto'),
        delimiter: z.enum([',', ';', '\t', '|']).optional().describe('Sniffed when unset.'),
        quote: z.string().length(1).default('"'),
        escape: z
          .literal('\\')
          .optional()
          .describe(
            '`\\` when a quote inside quotes is written `\\"` (MySQL, many scrapers); else it is `""`.',
          ),
        header: z.boolean().default(true),
        skipLines: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .optional()
          .describe(
            'Lines above the header to skip (a report title); sniffed when unset and the delimiter is too.',
          ),
      })
      .strict()
      .default({ encoding: 'auto', quote: '"', header: true }),
    table: identifier.optional().describe('Target table name; the request `table` wins when given.'),
    contract: z
      .enum(CONTRACT_MODES)
      .optional()
      .describe(
        'Schema contract with the last loaded version (docs/contracts.md); the request `contract` wins when given.',
      ),
    primaryKey: z
      .array(columnName)
      .min(1)
      .optional()
      .describe('Unique per row: a later row with the same key is quarantined (duplicate_key).'),
    missingTokens: z
      .array(z.string())
      .default([...DEFAULT_MISSING_TOKENS])
      .describe('Values read as missing in typed columns (an empty value is always missing).'),
    text: textRuleSchema.partial().default({}).describe('Text normalisation of every string column.'),
    columns: z.array(columnProfileSchema).default([]),
    duplicates: z
      .object({
        exact: z.enum(['drop', 'keep']).default('drop').describe('Rows equal in every column.'),
        ignoreColumns: z
          .array(columnName)
          .default([])
          .describe('Also report rows equal in every column but these (e.g. a surrogate row id); kept.'),
        keys: z
          .array(z.array(columnName).min(1))
          .default([])
          .describe('Column sets whose repeated values are reported with examples; rows kept.'),
      })
      .strict()
      .default({ exact: 'drop', ignoreColumns: [], keys: [] }),
    quality: z
      .object({
        maxRejectRate: z.number().min(0).max(1).optional().describe('The request value wins when given.'),
        minRows: z.number().int().min(0).optional().describe('Fewer staged rows fail the run.'),
        checks: z.array(checkSchema).default([]),
      })
      .strict()
      .default({ checks: [] }),
    warehouse: z
      .object({
        partitionBy: columnName.optional().describe('A DATE or TIMESTAMP column.'),
        clusterBy: z.array(columnName).max(4).optional(),
      })
      .strict()
      .optional(),
    roles: rolesProfileSchema
      .nullable()
      .optional()
      .describe(
        "The sales roles of the table's columns, recorded with the load for the analyze stage and the " +
          'insights app; each role not named here is inferred from the column names and types.',
      ),
    ml: z
      .union([z.boolean(), mlSchema])
      .optional()
      .describe('true (or a map) writes the feature tables <table>_features_*.'),
  })
  .strict();

export type Profile = z.infer<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type MlOptions = z.infer<typeof mlSchema>;

/** Feature tables and roles, or undefined when the profile does not ask for features. */
export function mlOptions(profile: Profile): MlOptions | undefined {
  if (profile.ml === undefined || profile.ml === false) return undefined;
  return profile.ml === true ? mlSchema.parse({}) : profile.ml;
}

export interface LoadedProfile {
  profile: Profile;
  /** Profile name as requested. */
  name: string;
  /** File it came from, for messages (relative to the profiles folder's parent when possible). */
  file: string;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The file of profile `name` in `dir`: `<name>.yaml` or `<name>.yml`. */
export async function loadProfile(name: string, dir: string): Promise<LoadedProfile> {
  if (!PROFILE_NAME.test(name) || name.includes('..')) {
    throw new InvalidRequestError(
      `invalid profile name ${JSON.stringify(name)}: expected a file name from ${dir} without .yaml`,
    );
  }
  const base = name.replace(/\.ya?ml$/, '');
  for (const candidate of [`${base}.yaml`, `${base}.yml`]) {
    const file = path.join(dir, candidate);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    return { profile: parseProfile(text, displayPath(file, dir)), name: base, file: displayPath(file, dir) };
  }
  throw new NotFoundError(
    `profile ${JSON.stringify(name)} not found: expected ${path.join(dir, `${base}.yaml`)}`,
    {
      details: { profilesDir: dir },
    },
    'PROFILE_NOT_FOUND',
  );
}

/** A profile file named on the command line (any path). */
export async function loadProfileFile(file: string): Promise<LoadedProfile> {
  const text = await readFile(file, 'utf8');
  return {
    profile: parseProfile(text, file),
    name: path.basename(file).replace(/\.ya?ml$/, ''),
    file,
  };
}

function displayPath(file: string, dir: string): string {
  return path.join(path.basename(dir), path.relative(dir, file));
}

/** YAML text -> validated profile; errors name `file:line:column: field: problem`. */
export function parseProfile(text: string, file: string): Profile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return `${file}:${at.line}:${at.col}: ${e.message.split('\n')[0]}`;
    });
    throw invalidProfile(file, problems);
  }
  const data: unknown = doc.toJS() ?? {};
  const result = profileSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = position(doc, lineCounter, issue.path as PropertyKey[]);
      return `${file}:${where}: ${fieldPath(issue.path as PropertyKey[])}: ${issue.message}`;
    });
    throw invalidProfile(file, problems);
  }
  const problems = checkConsistency(result.data).map((p) => {
    const where = position(doc, lineCounter, p.path);
    return `${file}:${where}: ${fieldPath(p.path)}: ${p.message}`;
  });
  if (problems.length > 0) throw invalidProfile(file, problems);
  return result.data;
}

function invalidProfile(file: string, problems: string[]): InvalidRequestError {
  return new InvalidRequestError(
    `invalid profile ${file}: ${problems.join('; ')}`,
    { details: { file, problems } },
    'INVALID_PROFILE',
  );
}

/** `columns[2].type` */
export function fieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : `${out ? '.' : ''}${String(s)}`;
  return out || '(root)';
}

/** line:column of the deepest node that exists on `segments` (the field, or its parent when missing). */
function position(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  segments: readonly PropertyKey[],
): string {
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const at = lineCounter.linePos(node.range[0]);
      return `${at.line}:${at.col}`;
    }
  }
  return '1:1';
}

interface Problem {
  path: PropertyKey[];
  message: string;
}

/** Rules across fields that zod's shapes do not express. */
function checkConsistency(profile: Profile): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  const byName = new Map<string, ColumnProfile>();
  profile.columns.forEach((c, i) => {
    const at = (field: string): PropertyKey[] => ['columns', i, field];
    if (names.has(c.name)) problems.push({ path: at('name'), message: `column ${c.name} is listed twice` });
    names.add(c.name);
    byName.set(c.name, c);
    const type = c.type;
    if (c.format !== undefined && type !== undefined && type !== 'date' && type !== 'timestamp')
      problems.push({ path: at('format'), message: `a format needs type date or timestamp, not ${type}` });
    if (isEpochFormat(c.format) && type !== 'timestamp')
      problems.push({ path: at('format'), message: `format ${c.format} needs type timestamp` });
    if (c.format === EXCEL_SERIAL && type !== 'date')
      problems.push({ path: at('format'), message: `format ${c.format} needs type date` });
    if (c.ambiguous && c.format === undefined)
      problems.push({
        path: at('ambiguous'),
        message: `the date format of ${c.name} is ambiguous between ${(c.candidates ?? []).join(' and ') || 'several formats'}: set format to the right one and remove ambiguous`,
      });
    if ((c.thousands !== undefined || c.decimal !== undefined) && type !== 'number' && type !== 'integer')
      problems.push({ path: at('thousands'), message: 'thousands and decimal need type number or integer' });
    if ((c.currency !== undefined || c.percent) && type !== undefined && type !== 'number')
      problems.push({
        path: at(c.percent ? 'percent' : 'currency'),
        message: `currency and percent need type number, not ${type}`,
      });
    if (c.thousands !== undefined && c.thousands === (c.decimal ?? '.'))
      problems.push({ path: at('thousands'), message: 'thousands separator and decimal mark must differ' });
    if (c.pad !== undefined && type !== undefined && type !== 'string')
      problems.push({ path: at('pad'), message: `pad needs type string, not ${type}` });
    if (c.pattern !== undefined && type !== undefined && type !== 'string')
      problems.push({ path: at('pattern'), message: `pattern needs type string, not ${type}` });
    if (typeof c.missing === 'object') {
      const numeric = type === 'integer' || type === 'number' || type === 'date' || type === 'timestamp';
      if (c.missing.impute === 'median' && type !== undefined && !numeric)
        problems.push({ path: at('missing'), message: `median needs a numeric or date column, not ${type}` });
      if (c.missing.impute === 'constant' && c.missing.value === undefined)
        problems.push({ path: at('missing'), message: 'impute: constant needs a value' });
      if (c.missing.impute !== 'constant' && c.missing.value !== undefined)
        problems.push({ path: at('missing'), message: 'value is only for impute: constant' });
    }
    if ((c.normalize?.length || c.outliers) && type !== undefined && type !== 'integer' && type !== 'number')
      problems.push({
        path: at(c.outliers ? 'outliers' : 'normalize'),
        message: `needs a numeric column, not ${type}`,
      });
    if (c.encode !== undefined && c.encode !== 'none' && type !== undefined && type !== 'string')
      problems.push({ path: at('encode'), message: `encoding needs a string column, not ${type}` });
  });
  // Names the profile adds must not collide with listed columns.
  for (const c of profile.columns) {
    for (const extra of addedColumnNames(c)) {
      if (names.has(extra))
        problems.push({
          path: ['columns', profile.columns.indexOf(c), 'name'],
          message: `${c.name} adds the column ${extra}, which the profile also lists`,
        });
    }
  }
  // One role per column: the analyze stage reads each column as one thing.
  const roleOf = new Map<string, string>();
  for (const [role, value] of Object.entries(profile.roles ?? {})) {
    const columns = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    columns.forEach((column, i) => {
      const field = Array.isArray(value) ? `${role}[${i}]` : role;
      const other = roleOf.get(column);
      if (other !== undefined)
        problems.push({
          path: ['roles', role, ...(Array.isArray(value) ? [i] : [])],
          message: `column ${column} is named by roles.${other} already`,
        });
      else roleOf.set(column, field);
    });
  }
  const checkNames = new Set<string>();
  profile.quality.checks.forEach((check, i) => {
    try {
      parseCheckRule(check.rule);
    } catch (error) {
      problems.push({ path: ['quality', 'checks', i, 'rule'], message: (error as Error).message });
    }
    if (checkNames.has(check.name))
      problems.push({
        path: ['quality', 'checks', i, 'name'],
        message: `check ${check.name} is listed twice`,
      });
    checkNames.add(check.name);
    if (check.severity === 'reject' && check.maxRate !== undefined)
      problems.push({
        path: ['quality', 'checks', i, 'maxRate'],
        message: 'maxRate is for warning and error checks',
      });
  });
  return problems;
}

/** The columns a column profile adds to the staged table, in order. */
export function addedColumnNames(c: ColumnProfile): string[] {
  const out: string[] = [];
  if (typeof c.missing === 'object') out.push(`${c.name}_imputed`);
  if (c.outliers) out.push(`${c.name}_outlier`);
  for (const n of c.normalize ?? []) out.push(n === 'zscore' ? `${c.name}_z` : `${c.name}_mm`);
  return out;
}

/** Profile -> YAML text, with optional comments above top-level keys (`etl profile` output). */
export function stringifyProfile(profile: ProfileInput, header?: string): string {
  const body = stringify(profile, { lineWidth: 110, indent: 2 });
  if (!header) return body;
  const comment = header
    .split('\n')
    .map((line) => (line ? `# ${line}` : '#'))
    .join('\n');
  return `${comment}\n${body}`;
}
