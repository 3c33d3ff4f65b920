import { describe, expect, test } from 'vitest';
import { parseRecords } from './read-header';
import { looksLikeHeader, sniffDialect } from './sniff-csv';

describe('sniffDialect', () => {
  test.each([
    [',', 'id,name,amount\n1,a,2.5\n2,b,3\n'],
    [';', 'id;name;amount\n1;a;2,5\n2;b;3,75\n'],
    ['\t', 'id\tname\tamount\n1\ta b\t2.5\n'],
    ['|', 'id|name|amount\n1|a, b|2.5\n2|c|3\n'],
  ])('delimiter %j', (delimiter, text) => {
    expect(sniffDialect(text, true)).toMatchObject({ delimiter, header: true, consistency: 1, columns: 3 });
  });

  test('quoted fields with the other delimiters, commas and line breaks inside', () => {
    const text = 'id;note;amount\r\n1;"a; b, c";"1,234.50"\r\n2;"two\r\nlines";3\r\n';
    expect(sniffDialect(text, true)).toMatchObject({
      delimiter: ';',
      quote: '"',
      lineEnding: 'CRLF',
      columns: 3,
    });
  });

  test('line endings: LF, CRLF, bare CR, none', () => {
    expect(sniffDialect('a,b\n1,2\n').lineEnding).toBe('LF');
    expect(sniffDialect('a,b\r\n1,2\r\n').lineEnding).toBe('CRLF');
    expect(sniffDialect('a,b\r1,2\r3,4').lineEnding).toBe('CR');
    expect(sniffDialect('a,b').lineEnding).toBe('none');
  });

  test('single quotes when the file never uses double quotes', () => {
    expect(sniffDialect("id,name\n1,'a, b'\n2,'c'\n", true)).toMatchObject({ quote: "'", delimiter: ',' });
  });
});

describe('header detection', () => {
  const records = (text: string) => parseRecords(text, { delimiter: ',', quote: '"' }, 100, true).records;
  test('names over numbers and dates: a header', () => {
    expect(looksLikeHeader(records('id,day,amount\n1,2024-01-01,2.5\n2,2024-01-02,3\n'))).toBe(true);
  });
  test('numbers over numbers: data', () => {
    expect(looksLikeHeader(records('1,2024-01-01,2.5\n2,2024-01-02,3\n'))).toBe(false);
  });
  test('year headings over amounts: a header', () => {
    expect(looksLikeHeader(records('Country,2019,2020\nFrance,1.5,2.5\nSpain,3,4\n'))).toBe(true);
  });
  test('text over text, a pandas index column: a header', () => {
    expect(looksLikeHeader(records(',name,city\n0,Ann,Paris\n1,Bob,Rome\n'))).toBe(true);
    expect(looksLikeHeader(records('name,city\nAnn,Paris\n'))).toBe(true);
  });
});

describe('parseRecords', () => {
  test('blank lines are skipped; the last record needs a line break unless the text is complete', () => {
    expect(parseRecords('a,b\n\n1,2\n3,4', { delimiter: ',', quote: '"' }).records).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseRecords('a,b\n\n1,2\n3,4', { delimiter: ',', quote: '"' }, 10, true).records).toHaveLength(3);
  });
});
