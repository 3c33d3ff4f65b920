/**
 * A profile over the inferred column plans: the profile decides what it states (type, format, separators,
 * padding, pattern, missing tokens, text rules, name), inference fills in the rest. Also checks that
 * every column the profile refers to (keys, checks, warehouse layout, ML roles) exists, so that a bad
 * profile fails before any row work, naming the profile file and the field.
 */
import { DataRejectedError, InvalidRequestError } from '@etl/common/errors';
import { parseCheckRule } from './checks';
import { type ColumnPlan, type ColumnStats, DATE_FORMATS, TIMESTAMP_FORMATS } from './infer-types';
import {
  addedColumnNames,
  type ColumnProfile,
  ML_ROLES,
  type MlRole,
  mlOptions,
  PROFILE_TYPES,
  type Profile,
} from './profile';

export interface ProfiledColumns {
  plans: ColumnPlan[];
  /** The profile entry of each plan, undefined for a column the profile does not list. */
  columns: (ColumnProfile | undefined)[];
  /** Optional columns the profile lists that the files do not have. */
  absent: string[];
  /** Plan indexes whose text is NFKC-normalised (by a value map, before parsing). */
  nfkc: number[];
  /** ML role -> column name, for the roles that have a column. */
  roles: Partial<Record<MlRole, string>>;
}

const normalizeHeader = (s: string): string => s.trim().toLowerCase();

export function applyProfile(
  inferred: readonly ColumnPlan[],
  stats: readonly ColumnStats[],
  profile: Profile,
  profileFile: string,
  fileKeys: readonly string[],
): ProfiledColumns {
  const columns: (ColumnProfile | undefined)[] = inferred.map(() => undefined);
  const absent: string[] = [];
  const missingRequired: string[] = [];
  for (const column of profile.columns) {
    const index = inferred.findIndex(
      (plan, i) =>
        columns[i] === undefined &&
        (column.source === undefined
          ? plan.name === column.name
          : normalizeHeader(plan.source) === normalizeHeader(column.source)),
    );
    if (index >= 0) columns[index] = column;
    else if (column.required || profile.primaryKey?.includes(column.name))
      missingRequired.push(column.source === undefined ? column.name : `${column.name} ("${column.source}")`);
    else absent.push(column.name);
  }
  if (missingRequired.length > 0) {
    throw new DataRejectedError(
      `${fileKeys.join(', ')} lack${fileKeys.length === 1 ? 's' : ''} the columns profile ${profileFile} requires: ${missingRequired.join(', ')}; the header has [${inferred.map((p) => p.source).join(', ')}]`,
      { details: { profile: profileFile, missing: missingRequired, header: inferred.map((p) => p.source) } },
      'MISSING_COLUMNS',
    );
  }

  const nfkc: number[] = [];
  const ambiguous = (plan: ColumnPlan, name: string): DataRejectedError =>
    new DataRejectedError(
      `column ${name} reads as a ${plan.type === 'TIMESTAMP' ? 'date-time' : 'date'} in more than one format (${(plan.candidates ?? [plan.format]).join(' and ')}); profile ${profileFile} must say which: set its format`,
      { details: { profile: profileFile, column: name, candidates: plan.candidates ?? [] } },
      'AMBIGUOUS_DATE_FORMAT',
    );
  const plans = inferred.map((plan, i): ColumnPlan => {
    const column = columns[i];
    if (!column) {
      if (isDated(plan) && plan.ambiguous) throw ambiguous(plan, plan.name);
      return plan;
    }
    const type = column.type === undefined ? plan.type : PROFILE_TYPES[column.type];
    const sameType = type === plan.type;
    const out: ColumnPlan = {
      source: plan.source,
      name: column.name,
      type,
      ambiguous: false,
      missingTokens: type !== 'VARCHAR',
      ...(plan.excelText ? { excelText: true } : {}),
    };
    if (type === 'DATE') {
      if (column.format !== undefined) out.format = column.format;
      else if (plan.type === 'DATE' && plan.ambiguous) throw ambiguous(plan, column.name);
      else out.format = plan.type === 'DATE' ? plan.format : bestDateFormat(stats[i]);
    } else if (type === 'TIMESTAMP') {
      // No format: the inferred one (`12/1/2010 8:26`), or none for ISO date-times.
      if (column.format !== undefined) out.format = column.format;
      else if (plan.type === 'TIMESTAMP' && plan.ambiguous) throw ambiguous(plan, column.name);
      else {
        const format = plan.type === 'TIMESTAMP' ? plan.format : bestTimestampFormat(stats[i]);
        if (format !== undefined) out.format = format;
      }
    }
    // A profile that states the number separators settles how the numbers read.
    const separators = column.thousands !== undefined || column.decimal !== undefined;
    if (column.type === undefined && plan.reason !== undefined && !separators) out.reason = plan.reason;
    const tokens = column.missingTokens ?? (type === 'VARCHAR' ? undefined : profile.missingTokens);
    if (tokens !== undefined) out.tokens = tokens;
    // The inferred decimal comma unless the profile says how numbers read; the inferred thousands
    // separator unless the profile's or the decimal mark is that character.
    const decimal = column.decimal ?? (sameType && column.thousands === undefined ? plan.decimal : undefined);
    if (decimal !== undefined) out.decimal = decimal;
    const thousands =
      column.thousands ?? (sameType && plan.thousands !== (decimal ?? '.') ? plan.thousands : undefined);
    if (thousands !== undefined) out.thousands = thousands;
    // Money and percentages as inferred, unless the profile says.
    const currency =
      column.currency ?? (sameType && column.percent === undefined ? plan.currency : undefined);
    if (currency !== undefined && type === 'DOUBLE') out.currency = currency;
    if ((column.percent ?? (sameType && column.currency === undefined && plan.percent)) && type === 'DOUBLE')
      out.percent = true;
    if (column.pad !== undefined) out.pad = column.pad;
    if (column.pattern !== undefined) out.pattern = column.pattern;
    return out;
  });
  // Text rules: the profile-wide `text`, then the column's; for every text column, listed or not.
  for (const [i, plan] of plans.entries()) {
    if (plan.type !== 'VARCHAR') continue;
    const rule = { ...profile.text, ...(columns[i]?.text ?? {}) };
    if (rule.unicode === 'NFKC') nfkc.push(i);
    if (rule.nbsp || rule.unicode === 'NFC' || rule.collapseSpaces)
      plans[i] = {
        ...plan,
        text: {
          nbsp: rule.nbsp ?? false,
          nfc: rule.unicode === 'NFC',
          collapseSpaces: rule.collapseSpaces ?? false,
        },
      };
  }

  const problems = checkReferences(plans, columns, profile);
  if (problems.length > 0) {
    throw new InvalidRequestError(
      `profile ${profileFile} does not fit the data: ${problems.join('; ')}`,
      { details: { profile: profileFile, problems } },
      'INVALID_PROFILE',
    );
  }
  const names = new Set(plans.map((p) => p.name));
  const roles: Partial<Record<MlRole, string>> = {};
  const ml = mlOptions(profile);
  for (const role of ML_ROLES) {
    const column = ml?.roles[role] ?? role;
    if (names.has(column)) roles[role] = column;
  }
  return { plans, columns, absent, nfkc, roles };
}

/** The date format that parsed the most sampled values (ISO when none did). */
function bestDateFormat(stats: ColumnStats | undefined): string {
  if (!stats) return '%Y-%m-%d';
  const best = Math.max(...stats.dates);
  return best > 0 ? DATE_FORMATS[stats.dates.indexOf(best)]! : '%Y-%m-%d';
}

/** The non-ISO date-time format that parsed the most sampled values, unless ISO parsed as many. */
function bestTimestampFormat(stats: ColumnStats | undefined): string | undefined {
  const counts = stats?.timestampFormats ?? [];
  const best = Math.max(0, ...counts);
  return best > 0 && best > (stats?.timestamps ?? 0) ? TIMESTAMP_FORMATS[counts.indexOf(best)] : undefined;
}

const isDated = (plan: ColumnPlan): boolean => plan.type === 'DATE' || plan.type === 'TIMESTAMP';

function checkReferences(
  plans: readonly ColumnPlan[],
  columns: readonly (ColumnProfile | undefined)[],
  profile: Profile,
): string[] {
  const problems: string[] = [];
  const byName = new Map(plans.map((p) => [p.name, p]));
  const seen = new Set<string>();
  for (const plan of plans) {
    if (seen.has(plan.name)) problems.push(`two columns are named ${plan.name}`);
    seen.add(plan.name);
  }
  for (const column of columns) {
    for (const extra of column ? addedColumnNames(column) : []) {
      if (byName.has(extra))
        problems.push(`column ${column!.name} adds ${extra}, which the data already has`);
    }
  }
  const known = (field: string, names: readonly string[]): void => {
    for (const name of names) {
      if (!byName.has(name))
        problems.push(`${field}: no column ${name} (columns: ${[...byName.keys()].join(', ')})`);
    }
  };
  known('primaryKey', profile.primaryKey ?? []);
  known('duplicates.ignoreColumns', profile.duplicates.ignoreColumns);
  profile.duplicates.keys.forEach((key, i) => {
    known(`duplicates.keys[${i}]`, key);
  });
  profile.quality.checks.forEach((check, i) => {
    try {
      const rule = parseCheckRule(check.rule);
      known(
        `quality.checks[${i}].rule`,
        rule.right.kind === 'column' ? [rule.left, rule.right.name] : [rule.left],
      );
    } catch (error) {
      problems.push(`quality.checks[${i}].rule: ${(error as Error).message}`);
    }
  });
  if (profile.warehouse?.partitionBy !== undefined) {
    known('warehouse.partitionBy', [profile.warehouse.partitionBy]);
    const type = byName.get(profile.warehouse.partitionBy)?.type;
    if (type !== undefined && type !== 'DATE' && type !== 'TIMESTAMP')
      problems.push(
        `warehouse.partitionBy: ${profile.warehouse.partitionBy} is ${type}, expected a DATE or TIMESTAMP`,
      );
  }
  known('warehouse.clusterBy', profile.warehouse?.clusterBy ?? []);
  const ml = mlOptions(profile);
  if (ml)
    known(
      'ml.roles',
      Object.values(ml.roles).filter((v): v is string => v !== undefined),
    );
  return problems;
}
