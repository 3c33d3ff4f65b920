/** How many rows from the start of the data type inference reads (a module of its own: the CLI reads config.ts). */

/**
 * Rows the transform samples. Few, as the columns the later rows break are typed again on every row
 * (retype-columns.ts): 30,000 rows took the inference of a 1M-row file from 1.2 to 0.6 s (bench/RESULTS.md).
 */
export const DEFAULT_SAMPLE_ROWS = 30_000;

/** Rows `etl profile` samples: a profile is written once, read by a person, and no second pass corrects it. */
export const PROFILE_SAMPLE_ROWS = 100_000;
