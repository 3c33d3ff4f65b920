/**
 * Names as the warehouse spells them: lower-case words joined by `_`. Headers, file names and dataset
 * slugs all go through this one function, so a column, a table and a role rule agree on a spelling.
 */

/**
 * `Order Date` -> `order_date`, `sampleSubmission` -> `sample_submission`, `Café` -> `cafe`. Letters of
 * other scripts are `_` unless `letters` is 'any', as for column names: `日付` -> `日付`, `Сумма продаж` ->
 * `сумма_продаж`. Table names and object keys stay in a-z, 0-9 and `_`.
 */
export function snakeCase(text: string, letters: 'latin' | 'any' = 'latin'): string {
  return text
    .replaceAll('ß', 'ss')
    .normalize('NFKD')
    .replace(/([A-Za-z])[\u0300-\u036f]+/g, '$1') // accents: é -> e; a Cyrillic й keeps its breve
    .normalize('NFC')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2') // camelCase -> camel_Case
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2') // HTTPCode -> HTTP_Code
    .toLowerCase()
    .replace(letters === 'any' ? /[^\p{L}\p{M}\p{N}]+/gu : /[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * A column name as `snakeCase(header, 'any')` writes it: lower-case letters of any script (`сумма`, `日付`),
 * marks, digits and `_`, starting with a letter, at most 63 characters. Profiles and checks name columns by it.
 */
export const COLUMN_NAME = /^(?!.*[\p{Lu}\p{Lt}])\p{L}[\p{L}\p{M}\p{N}_]{0,62}$/u;
