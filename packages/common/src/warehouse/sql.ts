/** Identifier and literal quoting for SQL we build from names found in files and profiles. */
import { InvalidRequestError } from '../errors';

/** Double-quotes an identifier; rejects control characters so a header cannot smuggle SQL. */
export function quoteIdentifier(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (name.length === 0 || name.length > 255 || /[\u0000-\u001f]/.test(name)) {
    throw new InvalidRequestError(`invalid SQL identifier ${JSON.stringify(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Backquotes an identifier for BigQuery (GoogleSQL), where a double-quoted name is a STRING literal.
 * BigQuery column names hold no backtick or backslash, so a name with one is refused, never escaped.
 */
export function quoteBigQueryIdentifier(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (name.length === 0 || name.length > 300 || /[\u0000-\u001f`\\]/.test(name)) {
    throw new InvalidRequestError(`invalid BigQuery identifier ${JSON.stringify(name)}`);
  }
  return `\`${name}\``;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
