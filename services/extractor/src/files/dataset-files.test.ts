import { describe, expect, test } from 'vitest';
import { slugifyName } from '../sources/local';
import { classifyFile } from './dataset-files';

describe('classifyFile', () => {
  test.each([
    ['orders.csv', 'delimited'],
    ['data/ORDERS.CSV', 'delimited'],
    ['a.tsv', 'delimited'],
    ['a.tab', 'delimited'],
    ['a.psv', 'delimited'],
    ['sales_2024.txt', 'delimited'],
    ['events.json', 'json'],
    ['events.jsonl', 'json'],
    ['events.ndjson', 'json'],
    ['x.parquet', 'parquet'],
    ['x.pq', 'parquet'],
    ['book.xlsx', 'xlsx'],
    ['book.xlsm', 'xlsx'],
  ])('%s is a table file (%s)', (name, format) => {
    expect(classifyFile(name)).toEqual({ kind: 'table', format });
  });

  test('archives: a zip (also a .csv.zip), and a .gz of a table file or of a zip', () => {
    expect(classifyFile('walmart.zip')).toEqual({ kind: 'zip' });
    expect(classifyFile('train.csv.zip')).toEqual({ kind: 'zip' });
    expect(classifyFile('data/Sales.csv.GZ')).toEqual({ kind: 'gzip', inner: 'data/Sales.csv' });
    expect(classifyFile('x.zip.gz')).toEqual({ kind: 'gzip', inner: 'x.zip' });
  });

  test.each([
    ['README.md', 'documentation, not a table'],
    ['docs/notes.md', 'documentation, not a table'],
    ['README.txt', 'documentation, not a table'],
    ['LICENSE', 'documentation, not a table'],
    ['licence.txt', 'documentation, not a table'],
    ['CHANGELOG.txt', 'documentation, not a table'],
    ['data_description.txt', 'documentation, not a table'],
    ['release-notes.txt', 'documentation, not a table'],
    ['CITATION.txt', 'documentation, not a table'],
    ['about.txt', 'documentation, not a table'],
    ['dataset-metadata.json', 'dataset metadata, not a table'],
    ['datapackage.json', 'dataset metadata, not a table'],
    ['sales_metadata_v2.json', 'dataset metadata, not a table'],
    ['old.xls', 'Excel 97-2003 workbook: save it as .xlsx or CSV'],
    ['x.7z', 'unsupported archive format .7z'],
    ['x.rar', 'unsupported archive format .rar'],
    ['x.csv.bz2', 'unsupported archive format .bz2'],
    ['x.xz', 'unsupported archive format .xz'],
    ['x.tar', 'unsupported archive format .tar'],
    ['x.tar.gz', 'unsupported archive format .tar.gz'],
    ['x.tgz', 'unsupported archive format .tgz'],
    ['paper.pdf', 'PDF document, not a table'],
    ['img/chart.PNG', 'image, not a table'],
    ['photo.jpeg', 'image, not a table'],
    ['analysis.ipynb', 'Jupyter notebook, not a table'],
    ['__MACOSX/data/._a.csv', 'macOS metadata'],
    ['data/._a.csv', 'macOS metadata'],
    ['.DS_Store', 'macOS metadata'],
    ['notes.pdf.gz', 'PDF document, not a table'],
    ['README.md.gz', 'documentation, not a table'],
  ])('%s is skipped: %s', (name, reason) => {
    expect(classifyFile(name)).toEqual({ kind: 'skip', reason });
  });

  test.each([
    ['data.xyz', 'not a table format (.xyz)'],
    ['Makefile', 'not a table format (no extension)'],
  ])('%s is skipped for want of a table extension alone: %s', (name, reason) => {
    expect(classifyFile(name)).toEqual({ kind: 'skip', reason, unknownFormat: true });
  });

  test('a documentation word must stand alone: aboutness.txt and footnotes_2024.txt are tables', () => {
    expect(classifyFile('aboutness.txt')).toEqual({ kind: 'table', format: 'delimited' });
    expect(classifyFile('footnotes_2024.txt')).toEqual({ kind: 'table', format: 'delimited' });
  });
});

describe('slugifyName strips the extensions the extractor reads through', () => {
  test.each([
    ['Sales.csv.gz', 'sales'],
    ['data.xlsx', 'data'],
    ['x.zip', 'x'],
    ['train.csv.zip', 'train'],
    ['Sample - Superstore.csv', 'sample-superstore'],
    ['events.v2.jsonl', 'events-v2'],
    ['my.shop', 'my-shop'],
  ])('%s -> %s', (name, slug) => {
    expect(slugifyName(name)).toBe(slug);
  });
});
