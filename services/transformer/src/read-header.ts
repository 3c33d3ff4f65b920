/** The header record of a UTF-8 CSV file, parsed in JavaScript (one record only) so names are exact. */
import { open } from 'node:fs/promises';

const HEADER_LIMIT = 1 << 20;

/** Field names of the first record, or undefined for a file without any bytes. */
export async function readCsvHeader(file: string): Promise<string[] | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_LIMIT);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_LIMIT, 0);
    if (bytesRead === 0) return undefined;
    return parseFirstRecord(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** RFC 4180: `,` separates, `"` quotes, `""` inside quotes is a quote, CRLF or LF ends the record. */
export function parseFirstRecord(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      break;
    } else field += char;
  }
  fields.push(field);
  return fields;
}
