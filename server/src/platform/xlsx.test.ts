import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { buildXlsx, columnName } from './xlsx.ts';

/** Every entry of a zip archive, inflated, by name. */
function unzip(buf: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out = new Map<string, string>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('xlsx', () => {
  it('names columns as spreadsheets do', () => {
    expect([0, 25, 26, 27, 51, 52, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
  });

  it('writes a workbook whose sheet holds the strings and numbers given', async () => {
    const rows = [
      ['Student code', 'Full name', 'Attendance (%)'],
      ['201900001', 'Ana <López> & "Co"', 91.7],
      ['201900002', ' spaced\u0007 ', null],
    ];
    const files = await unzip(buildXlsx('LFP A: [term]/1', rows));
    expect([...files.keys()].sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/workbook.xml',
      'xl/worksheets/sheet1.xml',
    ]);
    // The sheet name without the characters spreadsheets forbid in it.
    expect(files.get('xl/workbook.xml')).toContain('<sheet name="LFP A   term  1" sheetId="1" r:id="rId1"/>');
    const sheet = files.get('xl/worksheets/sheet1.xml')!;
    // Codes stay text (a leading zero or a long number is not reinterpreted), the header is bold.
    expect(sheet).toContain('<c r="A1" t="inlineStr" s="1"><is><t>Student code</t></is></c>');
    expect(sheet).toContain('<c r="A2" t="inlineStr"><is><t>201900001</t></is></c>');
    expect(sheet).toContain('<c r="B2" t="inlineStr"><is><t>Ana &lt;López&gt; &amp; &quot;Co&quot;</t></is></c>');
    expect(sheet).toContain('<c r="C2"><v>91.7</v></c>');
    // Control characters XML cannot carry are dropped; edge spaces kept; empty cells left out.
    expect(sheet).toContain('<c r="B3" t="inlineStr"><is><t xml:space="preserve"> spaced </t></is></c>');
    expect(sheet).not.toContain('r="C3"');
    expect(sheet.match(/<row /g)).toHaveLength(3);
    expect(files.get('[Content_Types].xml')).toContain('spreadsheetml.sheet.main+xml');
  });
});
