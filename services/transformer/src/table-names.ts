/**
 * Which files of a dataset form which warehouse table, and what the table is called.
 *
 * A table is named `<dataset>_<stem>`: the dataset's slug and the file's base name without its data
 * extensions, both snake_cased (`walmart/train.csv` -> `walmart_train`). The dataset prefix keeps two
 * datasets that both hold a `train.csv` apart in one warehouse; it is left out when the stem already says
 * it (`orders.jsonl` of dataset `orders` -> `orders`). Files whose stems differ only by a trailing part or
 * date suffix (`sales_2021_01.csv`, `sales_2021_02.csv`) and share a header are one table (`<dataset>_sales`).
 * Every fix-up (a cut name, a collision, a leading digit) is deterministic and reported in `naming`.
 */
import { createHash } from 'node:crypto';
import { snakeCase } from '@etl/common/names';

/** Longest table name, so that `<name>_rejects` still fits the 63 characters of a table name. */
export const MAX_TABLE_NAME = 63 - '_rejects'.length;
const CUT_LENGTH = MAX_TABLE_NAME - 9;

const DATA_EXTENSIONS = /(\.(csv|tsv|tab|psv|txt|json|jsonl|ndjson|parquet|pq|xlsx|xlsm))+$/i;
/** English month names and abbreviations, as monthly exports are named (`Sales_January_2019.csv`). */
const MONTHS =
  'jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|september|october|november|december';
/** One word of a part or date suffix: a number, a month, a quarter. */
const PART_WORD = `(?:\\d+|${MONTHS}|q[1-4])`;
/** A trailing part or date suffix: `_2021_01`, `_part_0001`, `_0001`, `_january_2019`, `_2023_q1`, a bare `2019`. */
const PART_SUFFIX = new RegExp(`(?:^|_)(?:part|chunk|batch|file)?_?${PART_WORD}(?:_${PART_WORD})*$`);

/** One readable unit of a dataset: a file, or one sheet of a workbook. */
export interface TableMember {
  /** The raw file's name inside the run (`train.csv.zip/train.csv`), `#sheet` appended for a sheet. */
  name: string;
  /** Snake-cased stem the table name starts from. */
  stem: string;
  /** Header and delimiter: parts of one table must agree on both. */
  shape: string;
}

export interface PlannedTable<M extends TableMember> {
  name: string;
  members: M[];
  /** Set when the name is not simply `<dataset>_<stem>`. */
  naming?: string;
}

/**
 * Spark's and Hadoop's part files (`part-00000-<uuid>-c000.csv`, `part-00001-<uuid>.snappy.parquet`,
 * `part-r-00000`), snake_cased: their names say nothing of their table, which their folder names.
 */
const SPARK_PART = /^part_(?:[mr]_)?\d+(?:_[0-9a-f]+)*(?:_c\d+)?(?:_(?:snappy|zstd|lz4|gz))?$/;
/** A Hive partition folder (`year=2019`), as Spark's `partitionBy` writes one: its key and value. */
const PARTITION_FOLDER = /^([^=]+)=(.*)$/;

/**
 * The stem of a raw file name: its base name without data extensions, snake_cased. A Spark part file, or any
 * file in a Hive partition folder (a partitioned table's file: `data_0.parquet`, `<uuid>-0.parquet`), takes
 * its table's folder's (`sales/year=2019/part-00000-….csv` -> `sales`, partition folders passed over; ''
 * at the top).
 */
export function fileStem(fileName: string): string {
  const folders = fileName.split('/');
  const base = folders.pop() ?? fileName;
  const stem = snakeCase(base.replace(DATA_EXTENSIONS, ''));
  const partitioned = folders.length > 0 && PARTITION_FOLDER.test(folders[folders.length - 1]!);
  if (!partitioned && !SPARK_PART.test(stem)) return stem;
  const folder = folders.reverse().find((f) => !PARTITION_FOLDER.test(f)) ?? '';
  return snakeCase(folder.replace(/\.zip$/i, '').replace(DATA_EXTENSIONS, ''));
}

/** Hive's folder of the rows whose partition value is NULL. */
const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * The Hive partition folders a raw file sits in, as columns: `sales/year=2019/month=01/…` -> year 2019, month
 * 01. Hive escapes `/`, `=`, `%` and the like in a value as `%XX`; its default partition is a NULL.
 */
export function partitionValues(fileName: string): Array<{ key: string; value: string | null }> {
  return fileName
    .split('/')
    .slice(0, -1)
    .flatMap((folder) => {
      const match = PARTITION_FOLDER.exec(folder);
      if (!match) return [];
      const value = unescapeHive(match[2]!);
      return [{ key: unescapeHive(match[1]!), value: value === NULL_PARTITION ? null : value }];
    });
}

function unescapeHive(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The stem of a workbook sheet: the workbook's, plus the sheet's name when the workbook has several. */
export function sheetStem(fileName: string, sheet: string, sheets: number): string {
  const workbook = fileStem(fileName);
  return sheets > 1 ? [workbook, snakeCase(sheet)].filter(Boolean).join('_') : workbook;
}

/** The stem without a trailing part/date suffix; '' when the stem is nothing but one. */
export function partBase(stem: string): string {
  return stem.replace(PART_SUFFIX, '');
}

/**
 * Groups members into tables and names them. `explicit` names a member's table outright (the request's
 * `tables` globs); members sharing an explicit name must share a shape, which the caller checks.
 */
export function planTables<M extends TableMember>(
  members: readonly M[],
  dataset: string,
  explicit: (member: M) => string | undefined = () => undefined,
): PlannedTable<M>[] {
  const groups = new Map<string, { stem: string; members: M[]; explicit?: string }>();
  const add = (key: string, stem: string, member: M, name?: string) => {
    const group = groups.get(key) ?? { stem, members: [], ...(name ? { explicit: name } : {}) };
    group.members.push(member);
    groups.set(key, group);
  };
  // Parts are grouped only when at least two members share a base and a shape: a lone
  // `sales_2021_01.csv` keeps its whole stem.
  const partCounts = new Map<string, number>();
  const partKey = (m: M) => `${partBase(m.stem)}\u0000${m.shape}`;
  for (const member of members) {
    if (explicit(member) === undefined)
      partCounts.set(partKey(member), (partCounts.get(partKey(member)) ?? 0) + 1);
  }
  for (const member of members) {
    const name = explicit(member);
    if (name !== undefined) add(`=${name}`, name, member, name);
    else if ((partCounts.get(partKey(member)) ?? 0) > 1) add(partKey(member), partBase(member.stem), member);
    else add(`${member.stem}\u0000${member.shape}`, member.stem, member);
  }

  const prefix = snakeCase(dataset);
  const taken = new Set<string>();
  const reserve = (name: string) => {
    taken.add(name);
    taken.add(`${name}_rejects`);
  };
  const planned: PlannedTable<M>[] = [];
  for (const group of groups.values()) if (group.explicit) reserve(group.explicit);
  for (const group of groups.values()) {
    if (group.explicit) {
      planned.push({ name: group.explicit, members: group.members });
      continue;
    }
    const notes: string[] = [];
    let name = prefixed(group.stem, prefix);
    if (/^[0-9]/.test(name)) {
      notes.push(`starts with a digit: prefixed with t_`);
      name = `t_${name}`;
    }
    if (name.length > MAX_TABLE_NAME) {
      const cut = cutName(name);
      notes.push(`${name} is longer than ${MAX_TABLE_NAME} characters: cut to ${cut}`);
      name = cut;
    }
    if (taken.has(name)) {
      let n = 2;
      while (taken.has(suffixed(name, n))) n++;
      notes.push(`${name} is already the name of another table of the dataset: named ${suffixed(name, n)}`);
      name = suffixed(name, n);
    }
    reserve(name);
    planned.push({ name, members: group.members, ...(notes.length ? { naming: notes.join('; ') } : {}) });
  }
  return planned.sort((a, b) => a.name.localeCompare(b.name));
}

function prefixed(stem: string, dataset: string): string {
  if (stem === '') return dataset || 'data';
  if (dataset === '' || carries(stem, dataset)) return stem;
  return `${dataset}_${stem}`;
}

/**
 * Whether the stem starts with the dataset's name, word boundaries aside: a slug is lower-cased before it
 * is snake_cased and a stem is not, so `sales-1M.csv` gives the dataset `sales_1m` and the stem `sales_1_m`.
 */
function carries(stem: string, dataset: string): boolean {
  const words = stem.split('_');
  const bare = dataset.replaceAll('_', '');
  return words.some((_, i) => words.slice(0, i + 1).join('') === bare);
}

function cutName(name: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, CUT_LENGTH)}_${hash}`;
}

function suffixed(name: string, n: number): string {
  const tail = `_${n}`;
  return `${name.slice(0, MAX_TABLE_NAME - tail.length)}${tail}`;
}

/** A `tables` glob (`*`, `?`) against a file name: its base name, or its whole path. */
export function matchesGlob(name: string, glob: string): boolean {
  const pattern = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '[^/]*')
      .replaceAll('?', '[^/]')}$`,
    'i',
  );
  return pattern.test(name) || pattern.test(name.split('/').pop() ?? name);
}
