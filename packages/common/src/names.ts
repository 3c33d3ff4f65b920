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

/** A letter that is not upper or title case: a lower-case one, or one of a script without case (`日`). */
const LOWER_LETTER = '[\\p{Ll}\\p{Lm}\\p{Lo}]';
const NAME_CHARACTER = '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}\\p{N}_]';

/**
 * A column name as `snakeCase(header, 'any')` writes it, unanchored (a `u` pattern): lower-case letters of any
 * script (`сумма`, `日付`), marks, digits and `_`, starting with a letter. Checks find column names by it.
 */
export const COLUMN_WORD = `${LOWER_LETTER}${NAME_CHARACTER}*`;

/** COLUMN_WORD as a whole name of at most 63 characters. Profiles name columns by it. */
export const COLUMN_NAME = new RegExp(`^${LOWER_LETTER}${NAME_CHARACTER}{0,62}$`, 'u');
