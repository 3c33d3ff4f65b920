/**
 * BigQuery (GoogleSQL) -> DuckDB, for the fake BigQuery server: the statement shapes the product sends, and
 * an honest refusal of the DuckDB-only forms a dialect leak would send instead. A refusal is BigQuery's
 * `400 invalidQuery`, so a query the real service would reject fails in tests too.
 *
 * Translated: backquoted `project.dataset.table` names, `@named` and `?` parameters (inlined as literals),
 * string literals ('...' and "...", with BigQuery's backslash escapes), decimal literals as FLOAT64, CAST/SAFE_CAST to BigQuery type
 * names (and in ALTER COLUMN ... SET DATA TYPE), DATE_TRUNC(d, DAY|WEEK[(<day>)]|ISOWEEK|MONTH|QUARTER|YEAR), DATE_DIFF(a, b, part),
 * FORMAT_DATE(fmt, d), SAFE_DIVIDE(a, b), and INFORMATION_SCHEMA.TABLES and INFORMATION_SCHEMA.COLUMNS of a
 * dataset (COLUMNS with BigQuery's type names: INT64, FLOAT64, NUMERIC, STRING, BOOL, DATE, TIMESTAMP, ...).
 * Refused: `::` casts, `$1` placeholders, `FILTER (WHERE ...)`, DuckDB-only functions (strftime,
 * arg_max, regr_slope, ...), date_trunc('part', d) / date_diff('part', a, b), type names BigQuery does
 * not know (VARCHAR, DOUBLE, ...), double-quoted strings where an identifier belongs (in BigQuery "x" is a
 * STRING literal), and reserved keywords used as aliases (`AS rows`).
 */
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface QueryParameter {
  name?: string;
  parameterType: { type: string };
  parameterValue: { value?: unknown };
}

export interface TranslateContext {
  projectId: string;
  /** The query's default dataset, if any. */
  dataset?: string | undefined;
  parameters: QueryParameter[];
}

type Token =
  | { kind: 'space'; text: string; at: number }
  | { kind: 'string'; text: string; at: number; value: string; double: boolean }
  | { kind: 'quoted'; text: string; at: number; name: string }
  | { kind: 'word'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: 'param'; text: string; at: number; name: string }
  | { kind: 'positional'; text: string; at: number }
  | { kind: 'punct'; text: string; at: number };

/** GoogleSQL reserved keywords (they cannot be unquoted identifiers or aliases). */
const RESERVED = new Set(
  `ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS CUBE
  CURRENT DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE FETCH FOLLOWING
  FOR FROM FULL GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN LATERAL
  LEFT LIKE LIMIT LOOKUP MERGE NATURAL NEW NO NOT NULL NULLS OF ON OR ORDER OUTER OVER PARTITION PRECEDING
  PROTO QUALIFY RANGE RECURSIVE RESPECT RIGHT ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO TREAT
  TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN`.split(/\s+/),
);

/** Functions DuckDB has and BigQuery does not: a leak of the DuckDB dialect. */
const DUCKDB_ONLY_FUNCTIONS = new Set(
  `STRFTIME STRPTIME DATE_PART DATEPART DATEDIFF DATESUB ARG_MAX ARG_MIN ARGMAX ARGMIN REGR_SLOPE
  REGR_INTERCEPT REGR_R2 REGR_COUNT LIST EPOCH EPOCH_MS MEDIAN QUANTILE QUANTILE_CONT QUANTILE_DISC TYPEOF
  TO_TIMESTAMP TRY_CAST`.split(/\s+/),
);

/** BigQuery type names (and their aliases) -> DuckDB. Anything else is "Type not found". */
const TYPES: Record<string, string> = {
  INT64: 'BIGINT',
  INT: 'BIGINT',
  INTEGER: 'BIGINT',
  BIGINT: 'BIGINT',
  SMALLINT: 'BIGINT',
  TINYINT: 'BIGINT',
  BYTEINT: 'BIGINT',
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  DECIMAL: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,18)',
  BIGDECIMAL: 'DECIMAL(38,18)',
  STRING: 'VARCHAR',
  BYTES: 'BLOB',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP: 'TIMESTAMPTZ',
  TIME: 'TIME',
};

/** The INFORMATION_SCHEMA views the fake serves. */
const VIEWS = ['TABLES', 'COLUMNS'] as const;
type View = (typeof VIEWS)[number];
const isView = (name: string | undefined): name is View => VIEWS.includes(name as View);

/** DuckDB's `data_type` as BigQuery's INFORMATION_SCHEMA.COLUMNS spells it (the types the fake creates). */
const BIGQUERY_DATA_TYPE = `CASE
  WHEN data_type IN ('BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT') THEN 'INT64'
  WHEN data_type IN ('DOUBLE', 'FLOAT', 'REAL') THEN 'FLOAT64'
  WHEN data_type = 'DECIMAL(38,18)' THEN 'BIGNUMERIC'
  WHEN data_type LIKE 'DECIMAL%' THEN 'NUMERIC'
  WHEN data_type = 'VARCHAR' THEN 'STRING'
  WHEN data_type = 'BOOLEAN' THEN 'BOOL'
  WHEN data_type = 'BLOB' THEN 'BYTES'
  WHEN data_type = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP'
  WHEN data_type = 'TIMESTAMP' THEN 'DATETIME'
  ELSE data_type END`;

const WEEKDAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\u0007',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  '?': '?',
};

/** `[line:column]` of an offset, as BigQuery reports positions. */
function position(sql: string, at: number): string {
  const before = sql.slice(0, at).split('\n');
  return `[${before.length}:${before.at(-1)!.length + 1}]`;
}

function invalid(message: string): ApiError {
  return new ApiError(400, message, 'invalidQuery');
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const at = i;
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      tokens.push({ kind: 'space', text: sql.slice(at, i), at });
    } else if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      while (i < sql.length && sql[i] !== '\n') i++;
      tokens.push({ kind: 'space', text: ' ', at });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw invalid(`Syntax error: Unclosed comment ${position(sql, at)}`);
      i = end + 2;
      tokens.push({ kind: 'space', text: ' ', at });
    } else if (c === "'" || c === '"' || (/[rR]/.test(c) && /['"]/.test(sql[i + 1] ?? ''))) {
      const raw = c !== "'" && c !== '"';
      if (raw) i++;
      const quote = sql[i]!;
      const triple = sql.startsWith(quote.repeat(3), i);
      const close = triple ? quote.repeat(3) : quote;
      i += close.length;
      let value = '';
      for (;;) {
        if (i >= sql.length) throw invalid(`Syntax error: Unclosed string literal ${position(sql, at)}`);
        if (sql.startsWith(close, i)) {
          i += close.length;
          break;
        }
        const ch = sql[i]!;
        if (!triple && ch === '\n')
          throw invalid(`Syntax error: Unclosed string literal ${position(sql, at)}`);
        if (ch === '\\' && !raw) {
          const next = sql[i + 1] ?? '';
          const escaped = ESCAPES[next];
          if (escaped === undefined)
            throw invalid(`Syntax error: Illegal escape sequence: \\${next} ${position(sql, i)}`);
          value += escaped;
          i += 2;
          continue;
        }
        if (ch === '\\' && raw) {
          value += ch + (sql[i + 1] ?? '');
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: sql.slice(at, i), at, value, double: quote === '"' });
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw invalid(`Syntax error: Unclosed identifier literal ${position(sql, at)}`);
      i = end + 1;
      tokens.push({ kind: 'quoted', text: sql.slice(at, i), at, name: sql.slice(at + 1, end) });
    } else if (c === '@' && sql[i + 1] === '@') {
      i += 2;
      while (i < sql.length && /\w/.test(sql[i]!)) i++;
      tokens.push({ kind: 'word', text: sql.slice(at, i), at });
    } else if (c === '@') {
      const m = /^@([A-Za-z_]\w*)/.exec(sql.slice(i));
      if (!m) throw invalid(`Syntax error: Unexpected "@" ${position(sql, at)}`);
      i += m[0].length;
      tokens.push({ kind: 'param', text: m[0], at, name: m[1]! });
    } else if (c === '?') {
      i++;
      tokens.push({ kind: 'positional', text: '?', at });
    } else if (c === '$') {
      throw invalid(`Syntax error: Illegal input character "$" ${position(sql, at)}`);
    } else if (c === ':' && sql[i + 1] === ':') {
      throw invalid(`Syntax error: Unexpected ":" ${position(sql, at)}`);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(\d*\.?\d+|\d+\.)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      i += m[0].length;
      tokens.push({ kind: 'number', text: m[0], at });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < sql.length && /\w/.test(sql[i]!)) i++;
      tokens.push({ kind: 'word', text: sql.slice(at, i), at });
    } else {
      i++;
      tokens.push({ kind: 'punct', text: c, at });
    }
  }
  return tokens;
}

function literal(parameter: QueryParameter): string {
  const value = parameter.parameterValue?.value;
  if (value === null || value === undefined) return 'NULL';
  const type = parameter.parameterType.type;
  switch (type) {
    case 'STRING':
      return quoteLiteral(String(value));
    case 'INT64':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      if (!/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(String(value)))
        throw invalid(`invalid ${type} parameter value ${String(value)}`);
      return type === 'FLOAT64' ? `CAST(${String(value)} AS DOUBLE)` : String(value);
    case 'BOOL':
      return String(value) === 'true' ? 'TRUE' : 'FALSE';
    case 'TIMESTAMP':
      return `CAST(${quoteLiteral(String(value))} AS TIMESTAMPTZ)`;
    case 'DATE':
      return `CAST(${quoteLiteral(String(value))} AS DATE)`;
    case 'DATETIME':
      return `CAST(${quoteLiteral(String(value))} AS TIMESTAMP)`;
    default:
      throw invalid(`the fake does not support ${type} parameters`);
  }
}

/** Translates one BigQuery statement into DuckDB SQL (see the module comment). */
export function translate(statement: string, context: TranslateContext): string {
  // ALTER COLUMN ... SET DATA TYPE: the one DDL form whose type name is not inside a CAST.
  const alter = /^(ALTER\s+TABLE\s+.+\s+ALTER\s+COLUMN\s+.+\s+SET\s+DATA\s+TYPE\s+)(\w+)$/is.exec(
    statement.trim(),
  );
  if (alter) {
    const type = TYPES[alter[2]!.toUpperCase()];
    if (!type) throw invalid(`Type not found: ${alter[2]}`);
    return `${new Translator(alter[1]!, context).run()}${type}`;
  }
  return new Translator(statement, context).run();
}

class Translator {
  private readonly tokens: Token[];
  private readonly named: Map<string, QueryParameter>;
  private readonly positional: QueryParameter[];

  constructor(
    private readonly sql: string,
    private readonly context: TranslateContext,
  ) {
    this.tokens = tokenize(sql);
    this.named = new Map(context.parameters.filter((p) => p.name).map((p) => [p.name!, p]));
    this.positional = context.parameters.filter((p) => !p.name);
  }

  run(): string {
    return this.emit(0, this.tokens.length);
  }

  private at(token: Token): string {
    return position(this.sql, token.at);
  }

  /** Index of the next non-space token at or after `i` (before `end`), or -1. */
  private next(i: number, end = this.tokens.length): number {
    for (let j = i; j < end; j++) if (this.tokens[j]!.kind !== 'space') return j;
    return -1;
  }

  private previous(i: number, start = 0): Token | undefined {
    for (let j = i; j >= start; j--) if (this.tokens[j]!.kind !== 'space') return this.tokens[j];
    return undefined;
  }

  private isWord(index: number, ...words: string[]): boolean {
    const token = index >= 0 ? this.tokens[index] : undefined;
    return token?.kind === 'word' && words.includes(token.text.toUpperCase());
  }

  private isPunct(index: number, text: string): boolean {
    const token = index >= 0 ? this.tokens[index] : undefined;
    return token?.kind === 'punct' && token.text === text;
  }

  /** The index of the `)` closing the `(` at `open`. */
  private closing(open: number): number {
    let depth = 0;
    for (let j = open; j < this.tokens.length; j++) {
      const t = this.tokens[j]!;
      if (t.kind !== 'punct') continue;
      if (t.text === '(') depth++;
      else if (t.text === ')' && --depth === 0) return j;
    }
    throw invalid(`Syntax error: Expected ")" ${this.at(this.tokens[open]!)}`);
  }

  /** Top-level comma-separated argument ranges of the call whose parentheses are at open..close. */
  private args(open: number, close: number): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    let depth = 0;
    let start = open + 1;
    for (let j = open + 1; j < close; j++) {
      const t = this.tokens[j]!;
      if (t.kind !== 'punct') continue;
      if (t.text === '(' || t.text === '[') depth++;
      else if (t.text === ')' || t.text === ']') depth--;
      else if (t.text === ',' && depth === 0) {
        ranges.push([start, j]);
        start = j + 1;
      }
    }
    if (this.next(start, close) >= 0 || ranges.length > 0) ranges.push([start, close]);
    return ranges;
  }

  /** The text of a range with spaces squeezed out, upper-cased: a date part or a type name. */
  private keyword([start, end]: [number, number]): string {
    return this.tokens
      .slice(start, end)
      .filter((t) => t.kind !== 'space')
      .map((t) => t.text)
      .join('')
      .toUpperCase();
  }

  private firstIsString([start, end]: [number, number]): boolean {
    const j = this.next(start, end);
    return j >= 0 && this.tokens[j]!.kind === 'string';
  }

  private emit(start: number, end: number): string {
    let out = '';
    for (let i = start; i < end; i++) {
      const t = this.tokens[i]!;
      switch (t.kind) {
        case 'space':
        case 'punct':
          out += t.text;
          break;
        case 'number':
          // 0.2 and 1e3 are FLOAT64 in BigQuery (NUMERIC needs NUMERIC '0.2'); DuckDB would make a DECIMAL.
          out += /[.eE]/.test(t.text) ? `CAST(${t.text} AS DOUBLE)` : t.text;
          break;
        case 'param': {
          const parameter = this.named.get(t.name);
          if (!parameter) throw invalid(`Query parameter '${t.name}' not found ${this.at(t)}`);
          out += literal(parameter);
          break;
        }
        case 'positional': {
          const parameter = this.positional.shift();
          if (!parameter) throw invalid(`Not enough positional query parameters ${this.at(t)}`);
          out += literal(parameter);
          break;
        }
        case 'string': {
          if (t.double) this.assertNotIdentifier(i, start, end);
          out += quoteLiteral(t.value);
          break;
        }
        case 'quoted': {
          const schema = this.informationSchema(i, end);
          if (schema) {
            out += schema.sql;
            i = schema.last;
            break;
          }
          const parts = t.name.split('.');
          if (parts.length === 3) {
            if (parts[0] !== this.context.projectId)
              throw new ApiError(404, `Not found: Project ${parts[0]}`, 'notFound');
            parts.shift();
          }
          out += parts.map(quoteIdentifier).join('.');
          break;
        }
        case 'word': {
          const done = this.word(i, end);
          out += done.sql;
          i = done.last;
          break;
        }
      }
    }
    return out;
  }

  /** A double-quoted literal where BigQuery expects an identifier is a syntax error there. */
  private assertNotIdentifier(i: number, start: number, end: number): void {
    const before = this.previous(i - 1, start);
    const after = this.next(i + 1, end);
    const identifierSlot =
      (before?.kind === 'word' && /^(FROM|JOIN|AS|INTO|UPDATE|TABLE)$/i.test(before.text)) ||
      (before?.kind === 'punct' && before.text === '.') ||
      this.isPunct(after, '.');
    if (identifierSlot) {
      const t = this.tokens[i]!;
      throw invalid(
        `Syntax error: Unexpected string literal ${t.text} ${this.at(t)}; BigQuery quotes identifiers with backticks`,
      );
    }
  }

  /**
   * `[project.][dataset.]INFORMATION_SCHEMA.TABLES` (or `.COLUMNS`) starting at token i (backquoted whole
   * or in parts), as a DuckDB relation over the dataset's schema.
   */
  private informationSchema(i: number, end: number): { sql: string; last: number } | undefined {
    const t = this.tokens[i]!;
    if (t.kind === 'quoted') {
      const parts = t.name.split('.');
      const upper = parts.map((part) => part.toUpperCase());
      const view = upper.at(-1);
      if (upper.at(-2) === 'INFORMATION_SCHEMA' && isView(view)) {
        return { sql: this.viewRelation(view, parts.at(-3), t), last: i };
      }
      const after = this.informationSchemaAfter(i, end);
      return after && { sql: this.viewRelation(after.view, parts.at(-1), t), last: after.last };
    }
    if (t.kind !== 'word') return undefined;
    if (t.text.toUpperCase() === 'INFORMATION_SCHEMA') {
      const dot = this.next(i + 1, end);
      const table = dot < 0 ? -1 : this.next(dot + 1, end);
      if (!this.isPunct(dot, '.') || !this.isWord(table, ...VIEWS)) return undefined;
      const view = this.tokens[table]!.text.toUpperCase() as View;
      return { sql: this.viewRelation(view, undefined, t), last: table };
    }
    const after = this.informationSchemaAfter(i, end);
    return after && { sql: this.viewRelation(after.view, t.text, t), last: after.last };
  }

  /** The view and the index of its name when `.INFORMATION_SCHEMA.TABLES` (or `.COLUMNS`) follows token i. */
  private informationSchemaAfter(i: number, end: number): { view: View; last: number } | undefined {
    let j = i;
    for (const expected of ['.', 'INFORMATION_SCHEMA', '.']) {
      j = this.next(j + 1, end);
      if (j < 0) return undefined;
      const ok = expected === '.' ? this.isPunct(j, '.') : this.isWord(j, expected);
      if (!ok) return undefined;
    }
    j = this.next(j + 1, end);
    if (!this.isWord(j, ...VIEWS)) return undefined;
    return { view: this.tokens[j]!.text.toUpperCase() as View, last: j };
  }

  private viewRelation(view: View, dataset: string | undefined, at: Token): string {
    const schema = dataset ?? this.context.dataset;
    if (!schema) {
      throw invalid(
        `Table name "INFORMATION_SCHEMA.${view}" missing dataset while no default dataset is set in the request. ${this.at(at)}`,
      );
    }
    if (view === 'TABLES') {
      return `(SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = ${quoteLiteral(schema)})`;
    }
    return `(SELECT table_catalog, table_schema, table_name, column_name, ordinal_position, is_nullable, ${BIGQUERY_DATA_TYPE} AS data_type FROM information_schema.columns WHERE table_schema = ${quoteLiteral(schema)})`;
  }

  /** A word: a function call to translate or refuse, a reserved alias, or itself. */
  private word(i: number, end: number): { sql: string; last: number } {
    const t = this.tokens[i]!;
    const upper = t.text.toUpperCase();
    const after = this.next(i + 1, end);
    const schema = this.informationSchema(i, end);
    if (schema) return schema;
    if (upper === 'AS' && after >= 0) {
      const alias = this.tokens[after]!;
      const name = alias.text.toUpperCase();
      if (
        alias.kind === 'word' &&
        RESERVED.has(name) &&
        !['SELECT', 'WITH', 'STRUCT', 'ARRAY', 'OF'].includes(name)
      ) {
        throw invalid(`Syntax error: Unexpected keyword ${name} ${this.at(alias)}`);
      }
    }
    if (!this.isPunct(after, '(')) return { sql: t.text, last: i };
    if (upper === 'FILTER') {
      throw invalid(
        `Syntax error: Unexpected "(" ${this.at(this.tokens[after]!)} (FILTER clauses are DuckDB's)`,
      );
    }
    if (DUCKDB_ONLY_FUNCTIONS.has(upper)) throw invalid(`Function not found: ${t.text} ${this.at(t)}`);
    const close = this.closing(after);
    const args = this.args(after, close);
    const arg = (k: number) => {
      const range = args[k];
      if (!range) throw invalid(`Number of arguments does not match for function ${upper} ${this.at(t)}`);
      return `(${this.emit(range[0], range[1]).trim()})`;
    };
    const arity = (n: number) => {
      if (args.length !== n)
        throw invalid(`Number of arguments does not match for function ${upper} ${this.at(t)}`);
    };
    switch (upper) {
      case 'CAST':
      case 'SAFE_CAST': {
        arity(1);
        const [start, stop] = args[0]!;
        let as = -1;
        let depth = 0;
        for (let j = start; j < stop; j++) {
          const token = this.tokens[j]!;
          if (token.kind === 'punct' && token.text === '(') depth++;
          if (token.kind === 'punct' && token.text === ')') depth--;
          if (depth === 0 && this.isWord(j, 'AS')) as = j;
        }
        if (as < 0) throw invalid(`Syntax error: Expected keyword AS ${this.at(t)}`);
        const typeName = this.keyword([as + 1, stop]);
        const type = TYPES[typeName];
        if (!type) throw invalid(`Type not found: ${typeName} ${this.at(this.tokens[this.next(as + 1)]!)}`);
        const value = this.emit(start, as).trim();
        return { sql: `${upper === 'CAST' ? 'CAST' : 'TRY_CAST'}(${value} AS ${type})`, last: close };
      }
      case 'DATE_TRUNC': {
        arity(2);
        if (this.firstIsString(args[0]!)) {
          throw invalid(
            `No matching signature for function DATE_TRUNC for argument types: STRING, ... Supported signature: DATE_TRUNC(DATE, DATE_TIME_PART) ${this.at(t)}`,
          );
        }
        return { sql: this.dateTrunc(arg(0), this.keyword(args[1]!), t), last: close };
      }
      case 'DATE_DIFF': {
        arity(3);
        if (this.firstIsString(args[0]!)) {
          throw invalid(
            `No matching signature for function DATE_DIFF for argument types: STRING, ... Supported signature: DATE_DIFF(DATE, DATE, DATE_TIME_PART) ${this.at(t)}`,
          );
        }
        const part = this.keyword(args[2]!);
        if (!['DAY', 'MONTH', 'QUARTER', 'YEAR'].includes(part))
          throw invalid(`A valid date part name is required but found ${part} ${this.at(t)}`);
        return { sql: `date_diff('${part.toLowerCase()}', ${arg(1)}, ${arg(0)})`, last: close };
      }
      case 'FORMAT_DATE': {
        arity(2);
        return { sql: `strftime(${arg(1)}, ${arg(0)})`, last: close };
      }
      case 'SAFE_DIVIDE': {
        arity(2);
        const divisor = arg(1);
        return { sql: `(CASE WHEN ${divisor} = 0 THEN NULL ELSE ${arg(0)} / ${divisor} END)`, last: close };
      }
      default:
        // Any other call: the name as is, its arguments translated.
        return { sql: `${t.text}(${this.emit(after + 1, close)})`, last: close };
    }
  }

  /**
   * DATE_TRUNC as BigQuery defines it: WEEK starts on Sunday, WEEK(<day>) on that day, ISOWEEK on Monday.
   * The result is a DATE (DuckDB's date_trunc returns a TIMESTAMP).
   */
  private dateTrunc(date: string, part: string, at: Token): string {
    const week = /^WEEK(?:\((\w+)\))?$/.exec(part);
    if (week) {
      const day = WEEKDAYS.indexOf(week[1] ?? 'SUNDAY');
      if (day < 0) throw invalid(`A valid date part name is required but found ${part} ${this.at(at)}`);
      // dayofweek: 0 = Sunday. Step back to the last `day` on or before the date.
      return `(CAST(${date} AS DATE) - CAST((dayofweek(${date}) - ${day} + 7) % 7 AS INTEGER))`;
    }
    const duck: Record<string, string> = {
      DAY: 'day',
      ISOWEEK: 'week',
      MONTH: 'month',
      QUARTER: 'quarter',
      YEAR: 'year',
      ISOYEAR: 'isoyear',
    };
    const unit = duck[part];
    if (!unit) throw invalid(`A valid date part name is required but found ${part} ${this.at(at)}`);
    return `CAST(date_trunc('${unit}', ${date}) AS DATE)`;
  }
}
