import type { Box } from './engine.ts';

export const area = (b: Box): number => Math.max(0, b[2]) * Math.max(0, b[3]);

function intersection(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
}

export function iou(a: Box, b: Box): number {
  const i = intersection(a, b);
  const u = area(a) + area(b) - i;
  return u > 0 ? i / u : 0;
}

/**
 * Intersection over the smaller box. A face cut by a tile edge yields a smaller box inside the
 * whole one; plain IoU would keep both, this does not.
 */
export function overlapOfSmaller(a: Box, b: Box): number {
  const m = Math.min(area(a), area(b));
  return m > 0 ? intersection(a, b) / m : 0;
}

/**
 * Greedy non-maximum suppression; keeps the higher-scoring item of every overlapping pair. When
 * the weaker item is a confident, much larger box around the kept one, the kept one is a part
 * (a face cut by a tile edge) and the larger box replaces it.
 */
export function nms<T extends { box: Box; score: number }>(items: T[], threshold: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const it of sorted) {
    const i = kept.findIndex((k) => overlapOfSmaller(k.box, it.box) > threshold);
    if (i < 0) {
      kept.push(it);
      continue;
    }
    const k = kept[i];
    if (it.score >= 0.5 && area(it.box) > 1.5 * area(k.box) && overlapOfSmaller(k.box, it.box) > 0.8) {
      kept[i] = it;
    }
  }
  return kept;
}

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

function starts(total: number, size: number, overlap: number): number[] {
  if (total <= size) return [0];
  const step = Math.max(1, Math.floor(size * (1 - overlap)));
  const out: number[] = [];
  for (let p = 0; ; p += step) {
    if (p + size >= total) {
      out.push(total - size);
      break;
    }
    out.push(p);
  }
  return out;
}

/**
 * Overlapping square tiles covering the frame. Anything smaller than the overlap lies wholly
 * inside at least one tile, so small faces are never only seen cut in half.
 */
export function tilePlan(width: number, height: number, tileSize: number, overlap = 0.25, maxTiles = 16): Tile[] {
  let size = Math.max(64, Math.round(tileSize));
  for (;;) {
    const xs = starts(width, size, overlap);
    const ys = starts(height, size, overlap);
    if (xs.length * ys.length <= maxTiles) {
      const tiles: Tile[] = [];
      for (const y of ys) {
        for (const x of xs) tiles.push({ x, y, width: Math.min(size, width - x), height: Math.min(size, height - y) });
      }
      return tiles;
    }
    size = Math.round(size * 1.25);
  }
}

export const clampBox = (b: Box, width: number, height: number): Box => {
  const x = Math.max(0, Math.min(b[0], width));
  const y = Math.max(0, Math.min(b[1], height));
  return [x, y, Math.max(0, Math.min(b[0] + b[2], width) - x), Math.max(0, Math.min(b[1] + b[3], height) - y)];
};

/** The box grown by `factor` around its centre (and clamped to the frame). */
export function expandBox(b: Box, factor: number, width: number, height: number): Box {
  const cx = b[0] + b[2] / 2;
  const cy = b[1] + b[3] / 2;
  const w = b[2] * factor;
  const h = b[3] * factor;
  return clampBox([cx - w / 2, cy - h / 2, w, h], width, height);
}

export const roundBox = (b: Box): Box => [Math.round(b[0]), Math.round(b[1]), Math.round(b[2]), Math.round(b[3])];
