import { describe, expect, test } from 'vitest';
import { parseRecords } from './read-header';
import { groupedHeader, looksLikeHeader, sniffDialect, sniffGroupRow, sniffPreamble } from './sniff-csv';

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

  test('quotes escaped with a backslash (\\"), as MySQL and scrapers write them, are read so; a field ending in \\ is RFC 4180', () => {
    const escaped = 'id,review,stars\n1,"He said \\"great\\", twice",5\n2,"a \\\\ b, c",4\n3,plain,3\n';
    expect(sniffDialect(escaped, true)).toMatchObject({
      delimiter: ',',
      escape: '\\',
      columns: 3,
      consistency: 1,
    });
    expect(parseRecords(escaped, { delimiter: ',', quote: '"', escape: '\\' }).records[1]).toEqual([
      '1',
      'He said "great", twice',
      '5',
    ]);
    const rfc = 'id,path,size\n1,"C:\\temp\\",5\n2,"D:\\data\\",7\n3,"say ""hi""",1\n';
    expect(sniffDialect(rfc, true)).not.toHaveProperty('escape');
    // A value `\"` written the RFC 4180 way, `"\"""` (found by test/fuzz): its doubled quote is RFC 4180's.
    expect(sniffDialect('id,note,n\n1,"\\""",2\n2,x,3\n', true)).not.toHaveProperty('escape');
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

describe('title lines above the header', () => {
  const preambleOf = (text: string) => {
    const dialect = sniffDialect(text);
    return sniffPreamble(text, dialect, dialect.columns);
  };

  test('a report title, a date line and a blank line above the header', () => {
    const text =
      'Monthly Sales Report\nGenerated 2024-05-01\n\nDate,Store,Amount\n2024-01-05,North,1\n2024-01-06,South,2\n';
    expect(preambleOf(text)).toEqual({
      lines: 3,
      bytes: 43,
      chars: 43,
      text: ['Monthly Sales Report', 'Generated 2024-05-01', ''],
    });
    expect(text.slice(43).startsWith('Date,')).toBe(true);
  });

  test('CRLF, a title in the first field of a delimited line, and UTF-8 bytes counted as bytes', () => {
    const text =
      'Ventas de café;;;\r\nFecha;Tienda;Importe;Unidades\r\n03/01/2024;Madrid;12,50;3\r\n04/01/2024;Sevilla;7,25;1\r\n';
    expect(preambleOf(text)).toMatchObject({ lines: 1, chars: 19, bytes: 20, text: ['Ventas de café'] });
  });

  test('a quoted title, as a spreadsheet writes one with a comma', () => {
    expect(preambleOf('"Sales, FY2024",,\na,b,c\n1,2,3\n')).toMatchObject({
      lines: 1,
      text: ['Sales, FY2024'],
    });
  });

  test('none: a plain file, a header with fewer names than the data has fields, a header quoted over two lines', () => {
    expect(preambleOf('a,b,c\n1,2,3\n4,5,6\n')).toBeUndefined();
    expect(preambleOf('a,b\n1,2,3\n4,5,6\n')).toBeUndefined();
    expect(preambleOf('"a\nb",c,d\n1,2,3\n')).toBeUndefined();
    // A header in another delimiter than the rows: a broken file (422 UNPARSEABLE_FILE), not a title.
    expect(preambleOf('a,b,c\n1;2;3\n4;5;6\n')).toBeUndefined();
    // A sparse header (unnamed columns) above rows as sparse: the header, not a title.
    expect(preambleOf('id,,,,amount\n1,,,,5\n2,,,,6\n3,x,,,7\n')).toBeUndefined();
    // The lines after the header do not have its field count: not a table start.
    expect(preambleOf('Title\na,b,c\n1,2\n3,4\n5,6\n7,8\n9,10\n')).toBeUndefined();
  });
});

describe('a header of two rows (group names over column names)', () => {
  const groupOf = (text: string) => {
    const dialect = sniffDialect(text);
    return sniffGroupRow(text, dialect, dialect.columns);
  };

  test('merged cells exported as a name and empty fields, over a row of names above numbers', () => {
    const text =
      ',,Q1,,Q2,\r\nRegion,Product,Sales,Units,Sales,Units\r\nNorth,Widget,100,5,120,6\r\nSouth,Gadget,90,4,80,3\r\n';
    expect(groupOf(text)).toEqual({ groups: ['', '', 'Q1', '', 'Q2', ''], bytes: 11 });
    expect(text.slice(11).startsWith('Region,')).toBe(true);
    expect(
      groupOf('Store;;2023;;2024;\nId;Name;Units;Revenue;Units;Revenue\n1;Mitte;3;10,5;4;12\n'),
    ).toMatchObject({
      groups: ['Store', '', '2023', '', '2024', ''],
    });
  });

  test('the names: each group before the names under it, up to the next; columns left of the first keep theirs', () => {
    expect(
      groupedHeader(['', '', 'Q1', '', 'Q2', ''], ['Region', 'Product', 'Sales', 'Units', 'Sales', 'Units']),
    ).toEqual(['Region', 'Product', 'Q1 Sales', 'Q1 Units', 'Q2 Sales', 'Q2 Units']);
  });

  test('a line of units under the names: the names are the upper row, the units join them', () => {
    const text =
      'Date,Region,Revenue,Share\n,,(USD),%\n2024-01-02,North,1200.50,12.5\n2024-01-03,South,800,7\n';
    expect(groupOf(text)).toEqual({ groups: ['Date', 'Region', 'Revenue', 'Share'], bytes: 26, units: true });
    expect(groupedHeader(['Date', 'Region', 'Revenue', 'Share'], ['', '', '(USD)', '%'], true)).toEqual([
      'Date',
      'Region',
      'Revenue (USD)',
      'Share %',
    ]);
    expect(groupOf('Store;Umsatz\n;€\n1;1050\n2;1200\n')).toMatchObject({ units: true });
  });

  test('no units: a first row missing its numbers, a unit over text, a number, names not all text', () => {
    // `N/A` is a missing value, not a unit.
    expect(
      groupOf('Date,Region,Revenue\n,,N/A\n2024-01-02,North,1200\n2024-01-03,South,800\n'),
    ).toBeUndefined();
    // A word over a column of words is a row of data.
    expect(
      groupOf('Date,Region,Revenue\n,North,\n2024-01-02,South,1200\n2024-01-03,East,800\n'),
    ).toBeUndefined();
    // A digit is no unit.
    expect(
      groupOf('Date,Region,Revenue\n,,USD2\n2024-01-02,North,1200\n2024-01-03,South,800\n'),
    ).toBeUndefined();
    // A header with a number in it is not a row of names.
    expect(groupOf('Store,2023\n,USD\nA,1200\nB,800\n')).toBeUndefined();
  });

  test('none: a header with unnamed columns, a header above a row of data, text only, a title row', () => {
    // Unnamed columns over data: the next line is data (numbers), not names.
    expect(groupOf('id,,amount,\n1,x,10,y\n2,z,20,w\n')).toBeUndefined();
    // A plain header: no empty field to span.
    expect(groupOf('a,b,c\nx,y,z\n1,2,3\n')).toBeUndefined();
    // Names over text only: nothing shows the second line is a header rather than a row.
    expect(groupOf(',,Group,\nname,city,note,tag\nAnn,Rome,hi,x\nBo,Oslo,yo,y\n')).toBeUndefined();
    // An upper row holding a number is data.
    expect(groupOf(',,5,\na,b,c,d\n1,2,3,4\n')).toBeUndefined();
    // A second line with an empty field is no row of names.
    expect(groupOf(',,Q1,\nRegion,,Sales,Units\nNorth,x,1,2\n')).toBeUndefined();
  });
});
