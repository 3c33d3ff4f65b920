/**
 * Cross-field checks of a profile (`ship_date >= order_date`, `quantity > 0`), parsed into a tiny AST
 * so that nothing from the profile reaches SQL unchecked: the left side is a column, the right side a
 * column, a number or a quoted text; identifiers are quoted, literals escaped. A row where either side
 * is NULL passes (the value is unknown, not wrong; `required` or `missing: reject` cover absence).
 */
import { COLUMN_NAME, COLUMN_WORD } from '@etl/common/names';
import { quoteLiteral } from '@etl/common/warehouse/sql';

/** `<column> <op> <rest>`; the rest is read by parseCheckRule. */
export const CHECK_RULE = new RegExp(`^\\s*(${COLUMN_WORD})\\s*(>=|<=|<>|!=|=|>|<)\\s*(.+?)\\s*$`, 'u');

export type CheckOperator = '>=' | '<=' | '>' | '<' | '=' | '!=';

export interface CheckRule {
  left: string;
  op: CheckOperator;
  right:
    | { kind: 'column'; name: string }
    | { kind: 'number'; value: number }
    | { kind: 'text'; value: string };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TEXT = /^'((?:[^']|'')*)'$/;

export function parseCheckRule(rule: string): CheckRule {
  const m = CHECK_RULE.exec(rule);
  if (!m)
    throw new Error(
      `cannot read rule ${JSON.stringify(rule)}: expected <column> <op> <column|number|'text'>`,
    );
  const [, left, rawOp, rhs] = m as unknown as [string, string, string, string];
  const op = (rawOp === '<>' ? '!=' : rawOp) as CheckOperator;
  if (COLUMN_NAME.test(rhs)) return { left, op, right: { kind: 'column', name: rhs } };
  if (NUMBER.test(rhs)) return { left, op, right: { kind: 'number', value: Number(rhs) } };
  const text = TEXT.exec(rhs);
  if (text) return { left, op, right: { kind: 'text', value: text[1]!.replaceAll("''", "'") } };
  throw new Error(
    `cannot read ${JSON.stringify(rhs)} in ${JSON.stringify(rule)}: expected a column, a number or 'text'`,
  );
}

/** SQL that is TRUE when the rule fails for a row (NULL sides pass); `column` maps a name to SQL. */
export function checkFailsSql(rule: CheckRule, column: (name: string) => string): string {
  const left = column(rule.left);
  const right =
    rule.right.kind === 'column'
      ? column(rule.right.name)
      : rule.right.kind === 'number'
        ? String(rule.right.value)
        : quoteLiteral(rule.right.value);
  return `coalesce(NOT (${left} ${rule.op === '!=' ? '<>' : rule.op} ${right}), false)`;
}

/** The columns a rule reads. */
export function checkColumns(rule: CheckRule): string[] {
  return rule.right.kind === 'column' ? [rule.left, rule.right.name] : [rule.left];
}
