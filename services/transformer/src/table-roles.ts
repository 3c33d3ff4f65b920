/**
 * The column roles of a cleaned table (event time, amount, order, customer, product, dimensions, ...), decided
 * at transform time: inferred from the staged columns and types (@etl/common/roles), with the profile's
 * `roles:` over them, and whether the amount is net of returns measured on the staged rows
 * (@etl/common/returns). The transform response carries them; the loader records them in the warehouse, where
 * the analyze stage and the insights app read them.
 *
 * The profile is checked against the table before any row work: a role naming a column the table does not
 * have, or one whose type cannot hold the role, is a 422 naming the profile, the role and the column.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataRejectedError } from '@etl/common/errors';
import { returnsNote, returnsSql } from '@etl/common/returns';
import {
  type ColumnInfo,
  type ColumnRole,
  inferRoles,
  ROLE_NAMES,
  type RoleName,
  type Roles,
  roleTypeProblem,
} from '@etl/common/roles';
import { salesColumn, salesEvents, salesFilter, valueCountsSql } from '@etl/common/sales-events';
import { duckDbDialect } from '@etl/common/warehouse';
import { queryRows } from './duckdb-session';
import type { ColumnPlan } from './infer-types';
import type { RolesProfile } from './profile';

/** A profile's `roles:`, resolved to the staged table's column names. */
export interface RoleOverrides {
  /** A column per role the profile names; null when it says no column holds the role. */
  roles: Partial<Record<RoleName, string | null>>;
  dimensions?: string[];
  /** The profile file, for the evidence. */
  profileFile: string;
}

const sameHeader = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The profile's `roles:` against the table's columns (`plans`): a role may name a column by its staged name or
 * by its header in the file. Throws a 422 for a column the table lacks or whose type cannot hold the role.
 */
export function resolveRoleOverrides(
  profileRoles: RolesProfile,
  plans: readonly ColumnPlan[],
  profileFile: string,
  table: string,
): RoleOverrides {
  const problems: Array<{ field: string; column: string; problem: string }> = [];
  const resolve = (field: string, role: RoleName | 'dimensions', named: string): string => {
    const plan = plans.find((p) => p.name === named) ?? plans.find((p) => sameHeader(p.source, named));
    if (!plan) {
      problems.push({
        field,
        column: named,
        problem: `table ${table} has no column ${named} (columns: ${plans.map((p) => p.name).join(', ')})`,
      });
      return named;
    }
    const mistyped = roleTypeProblem(role, { name: plan.name, type: plan.type });
    if (mistyped) problems.push({ field, column: named, problem: mistyped });
    return plan.name;
  };
  const roles: RoleOverrides['roles'] = {};
  for (const role of ROLE_NAMES) {
    const named = profileRoles[role];
    if (named === undefined) continue;
    roles[role] = named === null ? null : resolve(`roles.${role}`, role, named);
  }
  const dimensions = profileRoles.dimensions?.map((named, i) =>
    resolve(`roles.dimensions[${i}]`, 'dimensions', named),
  );
  if (problems.length > 0) {
    throw new DataRejectedError(
      `profile ${profileFile} does not fit table ${table}: ${problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`,
      { details: { profile: profileFile, table, problems } },
      'INVALID_ROLE',
    );
  }
  return { roles, ...(dimensions ? { dimensions } : {}), profileFile };
}

/** The roles of `inferred` with the profile's over them; a column a profile gives a role loses any other. */
export function overrideRoles(inferred: Roles, overrides: RoleOverrides): Roles {
  const set = (field: string, column: string): ColumnRole => ({
    column,
    confidence: 1,
    evidence: `set by profile ${overrides.profileFile} (${field})`,
  });
  const claimed = new Set(
    [...Object.values(overrides.roles), ...(overrides.dimensions ?? [])].filter(
      (c): c is string => typeof c === 'string',
    ),
  );
  const roles: Roles = { ...inferred, dimensions: inferred.dimensions, notes: inferred.notes };
  for (const role of ROLE_NAMES) {
    const named = overrides.roles[role];
    const current = roles[role];
    if (named === null) delete roles[role];
    else if (named !== undefined) roles[role] = set(`roles.${role}`, named);
    else if (current?.column && claimed.has(current.column)) delete roles[role];
  }
  // A derived amount needs both of its factors.
  if (roles.amount?.column === null && !(roles.quantity && roles.unit_price)) delete roles.amount;
  roles.dimensions = overrides.dimensions
    ? overrides.dimensions.map((column, i) => set(`roles.dimensions[${i}]`, column))
    : inferred.dimensions.filter((d) => !claimed.has(d.column));
  return roles;
}

/**
 * The roles of the staged rows (`stagedSql`, a query on `connection`): inferred from their columns, the
 * profile's over them, which rows are sales when an event type or an order status says (@etl/common/sales-events),
 * and the returns among those rows when there is an amount.
 */
export async function decideTableRoles(
  connection: DuckDBConnection,
  stagedSql: string,
  overrides: RoleOverrides | undefined,
): Promise<Roles> {
  const columns: ColumnInfo[] = (await queryRows(connection, `DESCRIBE ${stagedSql}`)).map((c) => ({
    name: String(c['column_name']),
    type: String(c['column_type']),
  }));
  const inferred = inferRoles(columns);
  let roles = overrides ? overrideRoles(inferred, overrides) : inferred;
  const staged = `(${stagedSql}) AS staged`;
  const source = salesColumn(roles, columns);
  if (source) {
    const counts = await queryRows(connection, valueCountsSql(duckDbDialect, source.column, staged));
    const sales = salesEvents(source, counts);
    if (sales) roles = { ...roles, sales };
  }
  const filter = salesFilter(duckDbDialect, roles);
  const sql = returnsSql(duckDbDialect, roles, filter === undefined ? staged : `${staged} WHERE ${filter}`);
  if (sql === undefined) return roles;
  const [row] = await queryRows(connection, sql);
  return { ...roles, returns: returnsNote(row) };
}
