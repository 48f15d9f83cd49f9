import sharp from 'sharp';

/*
 * Pictures of text for OCR tests, rendered from SVG so the expected text is known exactly.
 */

/** Dark text lines on a white page, as a PNG. */
export async function renderTextImage(
  lines: string[],
  opts: { width?: number; fontSize?: number } = {},
): Promise<Buffer> {
  const fontSize = opts.fontSize ?? 40;
  const width = opts.width ?? 1000;
  const lineHeight = Math.round(fontSize * 1.6);
  const height = lineHeight * lines.length + fontSize * 2;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const texts = lines
    .map(
      (l, i) =>
        `<text x="${fontSize}" y="${fontSize * 1.5 + i * lineHeight}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#111">${esc(l)}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${texts}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
