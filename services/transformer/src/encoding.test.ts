import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, test } from 'vitest';
import { detectEncoding, EncodingDetector, encodingGuess, incompleteTail } from './detect-encoding';
import { encodeLegacy } from './test-support';
import {
  createTextDecoder,
  decodeWindows1252,
  isUndecodable,
  MixedUtf8Decoder,
  windows1252ToUtf8,
} from './transcode';

/** `text` in Windows-1252 (every character here is one of its bytes). */
const windows1252 = (text: string): Buffer =>
  Buffer.from([...text].map((char) => CP1252[char] ?? char.charCodeAt(0)));
// biome-ignore format: a table
const CP1252: Record<string, number> = {
  '€': 0x80, '“': 0x93, '”': 0x94, '–': 0x96, '’': 0x92, 'Š': 0x8a, 'Œ': 0x8c, 'Ž': 0x8e, 'š': 0x9a, 'œ': 0x9c,
  'ž': 0x9e, 'Ÿ': 0x9f,
};

describe('encoding detection', () => {
  test('UTF-8, UTF-8 with BOM, Windows-1252', () => {
    expect(detectEncoding(Buffer.from('a,b\nCafé,1\n'))).toBe('utf-8');
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('utf-8-bom');
    expect(detectEncoding(Buffer.from([0x61, 0x93, 0x62, 0x94]))).toBe('windows-1252');
    expect(detectEncoding(Buffer.alloc(0))).toBe('utf-8');
  });

  test('a multi-byte character split across chunks is still valid UTF-8', () => {
    const bytes = Buffer.from('x€y'); // € is 3 bytes
    for (let cut = 1; cut < bytes.length; cut++) {
      const detector = new EncodingDetector();
      detector.update(bytes.subarray(0, cut));
      detector.update(bytes.subarray(cut));
      expect(detector.encoding).toBe('utf-8');
    }
  });

  test('a truncated sequence at the end is not UTF-8', () => {
    expect(detectEncoding(Buffer.from([0x61, 0xe2, 0x82]))).toBe('windows-1252');
    expect(incompleteTail(Buffer.from([0x61, 0xe2, 0x82]))).toBe(2);
    expect(incompleteTail(Buffer.from('abc'))).toBe(0);
  });

  test('UTF-16 by its byte-order mark (little or big endian), whatever follows; the mark is removed', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\r\n', 'utf16le')]);
    const detector = new EncodingDetector();
    expect(detector.update(le)).toEqual(Buffer.from('a\tb\r\n', 'utf16le'));
    expect(detector.encoding).toBe('utf-16le');
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0x00, 0x61]))).toBe('utf-16be');
    // Without a mark, NUL-laden text is not taken for UTF-16 (the extractor refuses it before).
    expect(detectEncoding(Buffer.from('ab', 'utf16le'))).toBe('utf-8');
  });

  test('the BOM is removed from the first chunk only', () => {
    const detector = new EncodingDetector();
    expect(detector.update(Buffer.from([0xef, 0xbb, 0xbf, 0x61])).toString()).toBe('a');
    expect(detector.update(Buffer.from([0xef, 0xbb, 0xbf])).length).toBe(3);
  });
});

describe('legacy encodings, by their bytes', () => {
  const samples = [
    [
      'gb18030',
      '订单编号,下单日期,商品名称,数量,金额,城市\nA001,2023-01-05,苹果手机,1,5999.00,北京\nA002,2023-01-06,华为耳机,2,398.50,上海\n',
    ],
    [
      'big5',
      '訂單編號,日期,商品,數量,金額\nT001,2023-01-05,珍珠奶茶,2,120\nT002,2023-01-06,鳳梨酥禮盒,1,450\n',
    ],
    [
      'shift_jis',
      '受注番号,受注日,商品名,数量,金額,都道府県\nJ001,2023/01/05,ノートパソコン,1,98000,東京都\nJ002,2023/01/06,マウス,2,2980,大阪府\n',
    ],
    [
      'euc-kr',
      '주문번호,주문일자,상품명,수량,금액\nK001,2023-01-05,무선 이어폰,1,129000\nK002,2023-01-06,노트북 가방,2,45000\n',
    ],
    [
      'windows-1251',
      'Дата;Контрагент;Номенклатура;Сумма\n05.01.2023;ООО Ромашка;Бумага офисная;1 250,00\n06.01.2023;ИП Иванов;Ручка шариковая;2 300,50\n',
    ],
    [
      'windows-1254',
      'Ürün Adı;Satış Tutarı;Şehir;Müşteri\nÇay;12,50;İstanbul;Ayşe Yılmaz\nŞeker;8,75;Ankara;Mehmet Öztürk\nKahve;45,00;İzmir;Gülşen Doğan\nSüt;9,90;Bursa;Çağrı Işık\n',
    ],
    [
      'windows-1250',
      'Zamówienie;Data;Klient;Miasto;Kwota\n1;2023-01-05;Paweł Wiśniewski;Łódź;120,50\n2;2023-01-06;Małgorzata Dąbrowska;Gdańsk;89,00\n3;2023-01-07;Józef Żółkiewski;Kraków;45,10\n4;2023-01-08;Agnieszka Wójcik;Wrocław;300,00\n',
    ],
    [
      'iso-8859-7',
      'Παραγγελία;Ημερομηνία;Πελάτης;Πόλη;Ποσό\n1;2023-01-05;Γιώργος Παπαδόπουλος;Αθήνα;120,50\n2;2023-01-06;Μαρία Κωνσταντίνου;Θεσσαλονίκη;89,00\n',
    ],
    [
      'iso-8859-8',
      'הזמנה,תאריך,לקוח,עיר,סכום\n1,2023-01-05,משה כהן,תל אביב,120.50\n2,2023-01-06,שרה לוי,חיפה,89.00\n',
    ],
    [
      'windows-1256',
      'الطلب,التاريخ,العميل,المدينة,المبلغ\n1,2023-01-05,محمد أحمد,القاهرة,120.50\n2,2023-01-06,فاطمة علي,الرياض,89.00\n',
    ],
  ] as const;

  test.each(samples)(
    '%s: detected, and decoded to the same text whatever the chunks',
    async (encoding, csv) => {
      const bytes = encodeLegacy(csv, encoding);
      expect(isUtf8(bytes)).toBe(false);
      expect(detectEncoding(bytes)).toBe(encoding);
      for (const cut of [1, 7, 20, 41]) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        expect(await text(Readable.from(chunks).pipe(createTextDecoder(encoding)))).toBe(csv);
      }
      expect(encodingGuess(encoding)).toContain(`read as ${encoding}`);
    },
  );

  test('Western text stays Windows-1252: German, French, Spanish, and English with curly quotes and dashes', () => {
    const western = [
      'Kunde,Ort,Artikel\nMüller GmbH,Köln,Größe XL\nBäckerei Schäfer,Düsseldorf,Brötchen\n',
      'client,ville,note\nFrançois,Besançon,à bientôt\nHélène,Orléans,crème brûlée – 12,50 €\n',
      'cliente,ciudad,producto\nJosé Núñez,Málaga,jamón ibérico\nMaría,Cádiz,año\n',
      'Customer Name,Product Name\nClaire Gute,“Bush Somerset” Bookcase – Oak\nDarrin Van Huff,Self-Adhesive Address Labels, 8½” x 11”\n',
    ];
    for (const csv of western) expect(detectEncoding(windows1252(csv)), csv).toBe('windows-1252');
    // Turkish words without the letters Windows-1254 reads otherwise (Ğ İ Ş ğ ı ş) read alike in either.
    expect(
      detectEncoding(
        encodeLegacy('ürün;müşteri\nÇay;Öztürk\nSüt;Gül\n'.replaceAll('ş', 's'), 'windows-1254'),
      ),
    ).toBe('windows-1252');
    expect(encodingGuess('windows-1252')).toBeUndefined();
    // Czech whose letters all have Western look-alikes (č è, ň ò) is left to Windows-1252, as before.
    const czech = 'Objednávka;Zákazník;Město\n1;Jiří Novák;Plzeň\n2;Petr Černý;Brno\n';
    expect(detectEncoding(encodeLegacy(czech, 'windows-1250'))).toBe('windows-1252');
  });

  test('generated Western rows, accents scattered in words and between them, always stay Windows-1252', () => {
    const words = [
      'Müller',
      'Größe',
      'Besançon',
      'crème brûlée',
      'Núñez',
      'año',
      'Hélène',
      'Ørsted',
      'Åsa',
      'São João',
      'città',
      'Œuvre',
      'cœur',
      'Ÿvonne',
      'œil',
      '½ kg',
      '¿Qué?',
      '¡Olé!',
      '£12',
      '¥500',
      '10m³',
      'Nº5',
      '1ª',
      'Škoda',
      'Žilina',
    ];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let file = 0; file < 300; file++) {
      const lines = ['name;city;note;amount'];
      for (let row = 0; row < 2 + next(30); row++)
        lines.push([0, 1, 2].map(() => words[next(words.length)]).join(';') + `;${next(1000)},${next(100)}`);
      const csv = `${lines.join('\n')}\n`;
      expect(detectEncoding(windows1252(csv)), csv).toBe('windows-1252');
    }
  });

  test('bytes the sampled encoding cannot decode fail its decoder instead of becoming U+FFFD', async () => {
    const bytes = Buffer.concat([encodeLegacy('北京,上海\n', 'gb18030'), Buffer.from([0x81, 0x20, 0x0a])]);
    await expect(text(Readable.from([bytes]).pipe(createTextDecoder('gb18030')))).rejects.toSatisfy(
      isUndecodable,
    );
  });
});

describe('UTF-16 decoding', () => {
  test('a code unit or a surrogate pair cut by a chunk boundary decodes whole', async () => {
    const sample = 'Äpfel\t€ 1,20\t😀\r\n';
    for (const encoding of ['utf-16le', 'utf-16be'] as const) {
      const bytes = Buffer.from(sample, 'utf16le');
      if (encoding === 'utf-16be') bytes.swap16();
      for (let cut = 1; cut < bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        expect(await text(Readable.from(chunks).pipe(createTextDecoder(encoding)))).toBe(sample);
      }
    }
  });
});

describe('Windows-1252 decoding', () => {
  test('0x80-0x9F map to their Windows-1252 characters, not C1 controls', () => {
    // Node 20's TextDecoder('windows-1252') gets this wrong (it decodes Latin-1).
    expect(decodeWindows1252(Buffer.from([0x93, 0x41, 0x94, 0xa0, 0x80, 0x96, 0xe9]))).toBe(
      '\u201cA\u201d\u00a0€–é',
    );
    expect(decodeWindows1252(Buffer.from([0x81, 0x8d]))).toBe('\u0081\u008d');
  });

  test('the byte route and the string route agree on every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(windows1252ToUtf8(all).toString('utf8')).toBe(decodeWindows1252(all));
    expect(windows1252ToUtf8(Buffer.from([0x61, 0xa0, 0x93, 0xc2, 0x94])).toString('utf8')).toBe(
      'a\u00a0\u201c\u00c2\u201d',
    );
    expect(windows1252ToUtf8(Buffer.from('plain ascii')).toString()).toBe('plain ascii');
  });
});

describe('UTF-8 with stray Windows-1252 bytes', () => {
  const utf8Rows = Array.from({ length: 50 }, (_, i) => `${i},Zoë Müller,Köln,€ ${i}`).join('\n');
  // `Café` written by another program in Windows-1252: its é is the single byte 0xE9.
  const stray = Buffer.concat([
    Buffer.from(`id,name,city,note\n${utf8Rows}\n50,Caf`),
    Buffer.from([0xe9]),
    Buffer.from(',Paris,x\n'),
  ]);

  test('is read as UTF-8, the stray byte as its Windows-1252 character, whatever the chunks', async () => {
    expect(isUtf8(stray)).toBe(false);
    expect(detectEncoding(stray)).toBe('utf-8-mixed');
    const expected = `id,name,city,note\n${utf8Rows}\n50,Café,Paris,x\n`;
    for (const cut of [1, 17, stray.length - 10, stray.length - 9, stray.length - 8]) {
      const decoder = new MixedUtf8Decoder();
      expect(await text(Readable.from([stray.subarray(0, cut), stray.subarray(cut)]).pipe(decoder))).toBe(
        expected,
      );
      expect(decoder.repaired).toBe(1);
    }
    expect(encodingGuess('utf-8-mixed', 1)).toContain('1 byte is not UTF-8 among its UTF-8 text');
  });

  test('UTF-8 beyond ASCII in an earlier chunk counts for UTF-8 when the stray bytes come later', () => {
    const detector = new EncodingDetector();
    detector.update(Buffer.from(`id,name\n${'1,Zoë\n'.repeat(10)}`));
    detector.update(Buffer.concat([Buffer.from('2,Caf'), Buffer.from([0xe9]), Buffer.from('\n'.repeat(10))]));
    expect(detector.encoding).toBe('utf-8-mixed');
  });

  test('Windows-1252 text, and legacy encodings, are not taken for UTF-8 with stray bytes', () => {
    expect(
      detectEncoding(windows1252('name,city\nZoë Müller,Köln\nJosé Núñez,Málaga\nFrançois,Besançon\n')),
    ).toBe('windows-1252');
    // A Windows-1252 file where one pair of bytes happens to be valid UTF-8 (`Ã©` is C3 A9).
    expect(detectEncoding(windows1252('a,b\nÃ©,Müller\nKöln,José\nNúñez,Málaga\nçà,è\n'))).toBe(
      'windows-1252',
    );
    expect(
      detectEncoding(
        encodeLegacy('Дата;Сумма;Комментарий\n05.01.2023;1 250,00;Ручка шариковая і ї є\n', 'windows-1251'),
      ),
    ).toBe('windows-1251');
  });
});
