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

/**
 * A SQL string literal. DuckDB's parser takes a NUL for the end of the statement's text (a header of NUL
 * bytes made the SQL that names it unparseable), so a text with one is written as its UTF-8 bytes in hex.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) return `decode(from_hex('${Buffer.from(value, 'utf8').toString('hex')}'))`;
  return `'${value.replaceAll("'", "''")}'`;
}
