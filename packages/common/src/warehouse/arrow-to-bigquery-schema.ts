/**
 * Arrow schema -> BigQuery table schema, for the load job's explicit schema and the target table. Only
 * the types the transformer produces are mapped; anything else is rejected naming the table and column,
 * before a byte is staged.
 */
import { DataType, type Field, type Schema } from 'apache-arrow';
import { DataRejectedError } from '../errors';
import { LINEAGE_COLUMNS } from './warehouse';

export type BigQueryType =
  | 'INTEGER'
  | 'FLOAT'
  | 'NUMERIC'
  | 'BIGNUMERIC'
  | 'STRING'
  | 'BYTES'
  | 'BOOLEAN'
  | 'DATE'
  | 'TIMESTAMP'
  | 'TIME';

export interface BigQueryField {
  name: string;
  type: BigQueryType;
  mode: 'NULLABLE' | 'REQUIRED';
}

/**
 * The BigQuery column names this adapter writes: letters (of any script: BigQuery's flexible column
 * names), marks, digits and underscores, not starting with a digit, at most 300 characters.
 */
const COLUMN = /^[\p{L}_][\p{L}\p{M}\p{N}_]{0,299}$/u;

export function bigQueryType(type: DataType): BigQueryType | undefined {
  if (DataType.isDictionary(type)) return bigQueryType(type.dictionary);
  if (DataType.isInt(type)) return type.bitWidth === 64 && !type.isSigned ? undefined : 'INTEGER';
  if (DataType.isFloat(type)) return 'FLOAT';
  if (DataType.isDecimal(type)) {
    // NUMERIC holds precision 38 / scale 9; wider decimals need BIGNUMERIC (76 / 38).
    return type.scale <= 9 && type.precision - type.scale <= 29 ? 'NUMERIC' : 'BIGNUMERIC';
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'STRING';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'BYTES';
  if (DataType.isBool(type)) return 'BOOLEAN';
  if (DataType.isDate(type)) return 'DATE';
  if (DataType.isTimestamp(type)) return 'TIMESTAMP';
  if (DataType.isTime(type)) return 'TIME';
  return undefined;
}

function mapField(table: string, field: Field): BigQueryField {
  if (!COLUMN.test(field.name)) {
    throw new DataRejectedError(
      `column ${JSON.stringify(field.name)} of table ${table} is not a valid BigQuery column name (letters, digits, _; not starting with a digit)`,
    );
  }
  if ((LINEAGE_COLUMNS as readonly string[]).includes(field.name)) {
    throw new DataRejectedError(
      `column ${field.name} of table ${table} collides with a lineage column the loader adds (${LINEAGE_COLUMNS.join(', ')})`,
    );
  }
  const type = bigQueryType(field.type);
  if (!type) {
    throw new DataRejectedError(
      `column ${field.name} of table ${table} has Arrow type ${String(field.type)}, which the BigQuery adapter does not map (expected integers, floats, decimals, strings, binary, booleans, dates, timestamps or times of day)`,
    );
  }
  // Everything is NULLABLE: a later load may lack a column, and REQUIRED cannot be relaxed cheaply.
  return { name: field.name, type, mode: 'NULLABLE' };
}

/** The columns of the data itself, as the load job's explicit schema. */
export function arrowToBigQuerySchema(table: string, schema: Schema): BigQueryField[] {
  const fields = schema.fields.map((field) => mapField(table, field));
  const seen = new Set<string>();
  for (const field of fields) {
    // BigQuery column names are case-insensitive.
    const key = field.name.toLowerCase();
    if (seen.has(key))
      throw new DataRejectedError(`table ${table} has two columns named ${field.name} (case-insensitive)`);
    seen.add(key);
  }
  return fields;
}

export const LINEAGE_FIELDS: readonly BigQueryField[] = [
  { name: '_source', type: 'STRING', mode: 'NULLABLE' },
  { name: '_run_id', type: 'STRING', mode: 'NULLABLE' },
  { name: '_loaded_at', type: 'TIMESTAMP', mode: 'NULLABLE' },
  { name: '_source_version', type: 'STRING', mode: 'NULLABLE' },
];

/** The target table's schema: the data columns plus the lineage columns. */
export function targetSchema(fields: readonly BigQueryField[]): BigQueryField[] {
  return [...fields, ...LINEAGE_FIELDS];
}
