/**
 * A report's figures as files, for papers and Markdown pages: every chart as SVG (the same
 * SVG the PDF prints), every image figure (LayerCAM) as a standalone HTML snippet, and
 * `figures.json` with each figure's number, title, caption and files, in report order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportFigures } from './figures';
import { orderFigures } from './html';

export interface FigureFile {
  number: number;
  id: string;
  title: string;
  caption: string;
  files: string[];
}

export function writeFigureFiles(dir: string, figures: ReportFigures): FigureFile[] {
  mkdirSync(dir, { recursive: true });
  const index: FigureFile[] = orderFigures(figures.figures).map((f, i) => {
    const stem = `fig${String(i + 1).padStart(2, '0')}-${f.id.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    const files =
      f.kind === 'charts'
        ? f.charts.map((c, k) => {
            const name = f.charts.length > 1 ? `${stem}-${String.fromCharCode(97 + k)}.svg` : `${stem}.svg`;
            writeFileSync(join(dir, name), c.svg);
            return name;
          })
        : [
            (() => {
              const name = `${stem}.html`;
              writeFileSync(
                join(dir, name),
                `<!doctype html><meta charset="utf-8"><title>${f.title.replace(/</g, '&lt;')}</title>\n${f.html}\n`,
              );
              return name;
            })(),
          ];
    return { number: i + 1, id: f.id, title: f.title, caption: f.caption, files };
  });
  writeFileSync(
    join(dir, 'figures.json'),
    `${JSON.stringify({ figures: index, skipped: figures.skipped }, null, 2)}\n`,
  );
  return index;
}
