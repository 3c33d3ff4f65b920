/**
 * Holds a new version of a table to the schema the dataset loaded it with last time (the dataset state),
 * so that nothing changes shape, type or meaning without a word (docs/contracts.md):
 *
 * - a type that holds the old one (BIGINT -> DOUBLE, DATE -> TIMESTAMP) is taken: `widened`;
 * - a narrower one is read as the loaded type (an integer column into a DOUBLE one, anything into text);
 * - values that no longer fit (a date column whose values now read as text) are read with the loaded type
 *   and format, and the rows that fail go to the rejects as `type_changed` (discard_row, the default), or
 *   the values become NULL (discard_value), or the new type goes to `<column>__v2` (evolve);
 * - an ambiguous date column keeps the dataset's format; a format the values prove is `format_changed`;
 * - new columns are `added`, absent ones `missing` (NULL in the new rows), and a missing column whose
 *   values an added one mostly holds is reported as `renamed`;
 * - under `freeze` every change is refused (422 SCHEMA_CHANGED), as is an ambiguous date format on a
 *   first load.
 *
 * Pure: plans and sketches in, plans and changes out.
 */
import type { ContractMode, SchemaChange } from '@etl/common/contracts';
import type { ColumnType, RecordedColumn, RecordedTable } from '@etl/common/dataset-state';
import { DataRejectedError } from '@etl/common/errors';
import type { ColumnPlan } from './infer-types';

/** Share of a missing column's sketched values an added column must hold to be called a rename. */
export const RENAME_SIMILARITY = 0.5;

/** Type -> the types it widens to without loss. */
const WIDENS_TO: Partial<Record<ColumnType, readonly ColumnType[]>> = {
  BIGINT: ['DOUBLE'],
  DATE: ['TIMESTAMP'],
};

/** New type -> loaded types that hold every value of it, so the warehouse casts it without loss. */
const FITS_INTO: Partial<Record<ColumnType, readonly ColumnType[]>> = {
  BIGINT: ['DOUBLE'],
  DATE: ['TIMESTAMP'],
};

export interface ContractInput {
  table: string;
  plans: readonly ColumnPlan[];
  /** The table as last loaded; undefined on a first load. */
  previous?: RecordedTable;
  /** The version it was loaded from, for messages. */
  previousVersion?: string;
  mode: ContractMode;
  /** Per plan, its values' sketch (see sketchSql). */
  sketches: ReadonlyArray<readonly string[]>;
}

export interface ContractResult {
  plans: ColumnPlan[];
  changes: SchemaChange[];
}

export function applyContract(input: ContractInput): ContractResult {
  const { table, previous, mode } = input;
  if (!previous) {
    if (mode === 'freeze') refuseAmbiguousFirstLoad(table, input.plans);
    return { plans: [...input.plans], changes: [] };
  }
  const loaded = new Map(previous.columns.map((c) => [c.name, c]));
  const names = new Set(input.plans.map((p) => p.name));
  const plans: ColumnPlan[] = [];
  const changes: SchemaChange[] = [];
  for (const plan of input.plans) {
    const was = loaded.get(plan.name);
    if (!was) {
      plans.push(plan);
      changes.push({
        change: 'added',
        column: plan.name,
        to: plan.type,
        message: `new column ${plan.name} (${plan.type})`,
      });
      continue;
    }
    const held = holdColumn(plan, was, mode, names);
    plans.push(held.plan);
    changes.push(...held.changes);
  }
  for (const was of previous.columns) {
    if (!names.has(was.name))
      changes.push({
        change: 'missing',
        column: was.name,
        from: was.type,
        message: `column ${was.name} (${was.type}) is not in this version: NULL in its rows`,
      });
  }
  const found = findRenames(changes, previous, input);
  if (mode === 'freeze') {
    for (const change of found) change.refused = true;
    if (found.length > 0) throw schemaChanged(table, found, input.previousVersion);
  }
  return { plans, changes: found };
}

function holdColumn(
  plan: ColumnPlan,
  was: RecordedColumn,
  mode: ContractMode,
  names: ReadonlySet<string>,
): { plan: ColumnPlan; changes: SchemaChange[] } {
  const column = plan.name;
  if (plan.type === was.type) return holdFormat(plan, was);
  if (WIDENS_TO[was.type]?.includes(plan.type))
    return {
      plan,
      changes: [
        {
          change: 'widened',
          column,
          from: was.type,
          to: plan.type,
          message: `column ${column} widened from ${was.type} to ${plan.type}`,
        },
      ],
    };
  if (FITS_INTO[plan.type]?.includes(was.type)) return { plan, changes: [] };
  if (was.type === 'VARCHAR') return { plan: asText(plan), changes: [] };
  // The values no longer fit the loaded type.
  if (mode === 'evolve') {
    let variant = `${column}__v2`;
    for (let n = 3; names.has(variant); n++) variant = `${column}__v${n}`;
    return {
      plan: { ...plan, name: variant },
      changes: [
        {
          change: 'variant',
          column,
          from: was.type,
          to: plan.type,
          message: `column ${column} was ${was.type}, its values now read as ${plan.type}: kept in ${variant}, ${column} is NULL in this version's rows`,
        },
      ],
    };
  }
  const action =
    mode === 'discard_value'
      ? 'values that do not fit are set to NULL'
      : 'rows whose value does not fit go to the rejects (type_changed)';
  return {
    plan: loadedPlan(plan, was, mode === 'discard_value' ? 'discard_value' : 'discard_row'),
    changes: [
      {
        change: 'type_changed',
        column,
        from: was.type,
        to: plan.type,
        message: `column ${column} was ${was.type}, its values now read as ${plan.type}: read as ${was.type}${was.format ? ` (${was.format})` : ''}, ${action}`,
      },
    ],
  };
}

/** Same type: a date column keeps the dataset's format unless the values prove another. */
function holdFormat(plan: ColumnPlan, was: RecordedColumn): { plan: ColumnPlan; changes: SchemaChange[] } {
  if (plan.format === undefined || was.format === undefined) return { plan, changes: [] };
  if (plan.ambiguous && plan.candidates?.includes(was.format))
    return {
      plan: {
        ...plan,
        format: was.format,
        ambiguous: false,
        reason: `ambiguous between ${plan.candidates.join(', ')}: read as ${was.format}, the format this dataset was loaded with`,
      },
      changes: [],
    };
  if (plan.format === was.format) return { plan, changes: [] };
  return {
    plan,
    changes: [
      {
        change: 'format_changed',
        column: plan.name,
        from: was.format,
        to: plan.format,
        message: `column ${plan.name} was read as ${was.format}; this version's values read only as ${plan.format}`,
      },
    ],
  };
}

/** A plan that reads the column as it was loaded; its failures are `type_changed`. */
function loadedPlan(
  plan: ColumnPlan,
  was: RecordedColumn,
  onMismatch: 'discard_row' | 'discard_value',
): ColumnPlan {
  const { format, thousands, decimal, currency, percent, ...rest } = plan;
  return {
    ...rest,
    type: was.type,
    ...(was.format === undefined ? {} : { format: was.format }),
    ...(was.thousands === undefined ? {} : { thousands: was.thousands }),
    ...(was.decimal === undefined ? {} : { decimal: was.decimal }),
    ...(was.currency === undefined ? {} : { currency: was.currency }),
    ...(was.percent ? { percent: true } : {}),
    ambiguous: false,
    missingTokens: true,
    contract: { loadedType: was.type, onMismatch },
  };
}

/** The column's text as it is: a loaded text column stays text whatever its values look like now. */
function asText(plan: ColumnPlan): ColumnPlan {
  const { format, thousands, decimal, currency, percent, candidates, ...rest } = plan;
  return { ...rest, type: 'VARCHAR', ambiguous: false, missingTokens: false };
}

/** Pairs of a missing and an added column whose values mostly agree become one `renamed`. */
function findRenames(changes: SchemaChange[], previous: RecordedTable, input: ContractInput): SchemaChange[] {
  const sketchOf = new Map(input.plans.map((p, i) => [p.name, input.sketches[i] ?? []]));
  const loadedSketch = new Map(previous.columns.map((c) => [c.name, c.sketch ?? []]));
  const added = changes.filter((c) => c.change === 'added');
  const paired = new Set<SchemaChange>();
  const renames: SchemaChange[] = [];
  for (const missing of changes.filter((c) => c.change === 'missing')) {
    let best: { change: SchemaChange; similarity: number } | undefined;
    for (const candidate of added) {
      if (paired.has(candidate)) continue;
      const similarity = sketchSimilarity(
        loadedSketch.get(missing.column) ?? [],
        sketchOf.get(candidate.column) ?? [],
      );
      if (similarity >= RENAME_SIMILARITY && similarity > (best?.similarity ?? 0))
        best = { change: candidate, similarity };
    }
    if (!best) continue;
    paired.add(missing).add(best.change);
    renames.push({
      change: 'renamed',
      column: best.change.column,
      from: missing.column,
      to: best.change.column,
      message: `column ${missing.column} is missing and ${best.change.column} is new with ${Math.round(best.similarity * 100)}% of its values: probably renamed (${missing.column} is NULL in this version's rows, ${best.change.column} is added)`,
    });
  }
  return [...changes.filter((c) => !paired.has(c)), ...renames];
}

/**
 * Estimated share of values two columns have in common, from bottom-k sketches (sorted hex hashes): both
 * are cut at the smaller of their largest hashes, then |A and B| / |A or B| over what is left.
 */
export function sketchSimilarity(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const cut = [a.at(-1)!, b.at(-1)!].sort()[0]!;
  const left = new Set(a.filter((h) => h <= cut));
  const right = new Set(b.filter((h) => h <= cut));
  let both = 0;
  for (const h of left) if (right.has(h)) both++;
  return both / (left.size + right.size - both);
}

function refuseAmbiguousFirstLoad(table: string, plans: readonly ColumnPlan[]): void {
  const ambiguous = plans.filter((p) => p.ambiguous && p.candidates);
  if (ambiguous.length === 0) return;
  throw new DataRejectedError(
    `schema contract freeze: table ${table} is loaded for the first time and ${ambiguous
      .map((p) => `column ${p.name} reads alike as ${p.candidates!.join(' and ')}`)
      .join('; ')}; set the format in the dataset's profile (columns[].format)`,
    { details: { table, columns: ambiguous.map((p) => ({ column: p.name, candidates: p.candidates })) } },
    'SCHEMA_CHANGED',
  );
}

function schemaChanged(
  table: string,
  changes: SchemaChange[],
  version: string | undefined,
): DataRejectedError {
  return new DataRejectedError(
    `schema contract freeze: table ${table} differs from the schema it was loaded with${version ? ` (version ${version})` : ''}: ${changes
      .map((c) => c.message)
      .join('; ')}`,
    { details: { table, schemaChanges: changes } },
    'SCHEMA_CHANGED',
  );
}
