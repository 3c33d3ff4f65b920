/**
 * Names as the warehouse spells them: lower-case words joined by `_`. Headers, file names and dataset
 * slugs all go through this one function, so a column, a table and a role rule agree on a spelling.
 */

/** `Order Date` -> `order_date`, `sampleSubmission` -> `sample_submission`, `Café` -> `cafe`. */
export function snakeCase(text: string): string {
  return text
    .replaceAll('ß', 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents: é -> e
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2') // camelCase -> camel_Case
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2') // HTTPCode -> HTTP_Code
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
