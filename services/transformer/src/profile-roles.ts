/**
 * The column roles `etl profile` infers for a file, as a commented `roles:` block at the end of the profile it
 * writes: the user sees what the analyze stage and the insights app will use, and uncomments and edits the
 * block to change it (a profile's `roles:` overrides the inferred roles; see table-roles.ts).
 */
import { ROLE_NAMES, type Roles } from '@etl/common/roles';

/** The roles as commented YAML, one role per line with its confidence. */
export function rolesComment(roles: Roles): string {
  const lines = [
    'Column roles inferred from the names and types (confidence in brackets). The analyze stage and the',
    'insights app use them; to change one, uncomment `roles:` and the role and name its column (a header',
    'or a column name). A role left out stays inferred; null says no column has it.',
    'roles:',
  ];
  for (const role of ROLE_NAMES) {
    const match = roles[role];
    if (!match) continue;
    lines.push(
      match.column === null
        ? `  # ${role}: derived as ${match.derived} (${match.confidence}); name a column to use it instead`
        : `  ${role}: ${match.column}  # (${match.confidence})`,
    );
  }
  if (roles.dimensions.length > 0)
    lines.push(`  dimensions: [${roles.dimensions.map((d) => d.column).join(', ')}]`);
  for (const note of roles.notes) lines.push(`  # note: ${note}`);
  return lines.map((line) => `# ${line}`).join('\n');
}
