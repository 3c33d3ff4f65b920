/** RFC 4180 output: a field is quoted only when it holds a comma, a quote or a line break. */
export function formatCsvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function formatCsvRow(values: readonly string[]): string {
  return values.map(formatCsvField).join(',');
}
