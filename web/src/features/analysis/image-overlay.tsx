import { Box as MBox } from '@mantine/core';
import type { CSSProperties } from 'react';

export type Rect = [number, number, number, number];
export type Point = [number, number];

export type OverlayShape =
  | { kind: 'box'; box: Rect; label?: string; color?: string; dashed?: boolean }
  | { kind: 'points'; points: Point[]; color?: string };

const PALETTE = ['#12b886', '#fab005', '#4c6ef5', '#fa5252', '#be4bdb', '#15aabf', '#fd7e14', '#82c91e'];

const isRect = (v: unknown): v is Rect => Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === 'number');
const isPoint = (v: unknown): v is Point => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number');
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/**
 * Shapes for whatever a model returned: faces (boxes, landmarks, identity), objects (boxes,
 * labels), people (boxes, keypoints) and text lines (OCR regions). Unknown outputs draw nothing.
 */
export function shapesFromOutput(output: unknown): OverlayShape[] {
  if (!output || typeof output !== 'object') return [];
  const o = output as Record<string, unknown>;
  const shapes: OverlayShape[] = [];
  const items = (key: string) => (Array.isArray(o[key]) ? (o[key] as Record<string, unknown>[]) : []);
  for (const f of items('faces')) {
    if (!isRect(f.box)) continue;
    const match = f.match as { identity?: string; known?: boolean } | undefined;
    const age = num(f.age);
    const label = match
      ? match.known
        ? match.identity
        : 'unknown'
      : age !== undefined
        ? `${Math.round(age)} y`
        : undefined;
    shapes.push({ kind: 'box', box: f.box, label, color: match && !match.known ? '#fa5252' : '#12b886' });
    if (Array.isArray(f.landmarks))
      shapes.push({ kind: 'points', points: f.landmarks.filter(isPoint), color: '#fab005' });
  }
  const labels = new Map<string, string>();
  for (const d of items('objects')) {
    if (!isRect(d.box)) continue;
    const name = typeof d.label === 'string' ? d.label : '';
    if (!labels.has(name)) labels.set(name, PALETTE[labels.size % PALETTE.length]);
    const score = num(d.score);
    shapes.push({
      kind: 'box',
      box: d.box,
      label: score !== undefined ? `${name} ${Math.round(score * 100)}%` : name,
      color: labels.get(name),
    });
  }
  for (const p of items('people')) {
    if (!isRect(p.box)) continue;
    shapes.push({
      kind: 'box',
      box: p.box,
      label: p.handRaised ? 'hand raised' : undefined,
      color: '#4c6ef5',
      dashed: true,
    });
    const kps = Array.isArray(p.keypoints) ? (p.keypoints as { position?: unknown; score?: unknown }[]) : [];
    shapes.push({
      kind: 'points',
      points: kps.filter((k) => isPoint(k.position) && (num(k.score) ?? 1) >= 0.3).map((k) => k.position as Point),
      color: '#be4bdb',
    });
  }
  for (const l of items('lines')) {
    if (isRect(l.box)) shapes.push({ kind: 'box', box: l.box, color: '#15aabf' });
  }
  if (isRect(o.box)) shapes.push({ kind: 'box', box: o.box, color: '#12b886' });
  return shapes;
}

interface ImageOverlayProps {
  src: string;
  alt: string;
  /** The pixel size the shapes refer to (the image's own size). */
  width: number;
  height: number;
  shapes: OverlayShape[];
  maxHeight?: number | string;
  style?: CSSProperties;
  testId?: string;
}

/** An image with boxes and points drawn over it, scaling with the image. */
export function ImageOverlay({ src, alt, width, height, shapes, maxHeight = 520, style, testId }: ImageOverlayProps) {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
  const font = Math.max(12, Math.round(Math.max(width, height) / 45));
  return (
    <MBox
      pos="relative"
      display="inline-block"
      style={{ lineHeight: 0, maxWidth: '100%', width: 'fit-content', alignSelf: 'center', ...style }}
      data-testid={testId}
    >
      <img
        src={src}
        alt={alt}
        style={{ display: 'block', maxWidth: '100%', maxHeight, width: 'auto', height: 'auto' }}
      />
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', pointerEvents: 'none' }}
        aria-hidden
      >
        {shapes.map((s, i) =>
          s.kind === 'box' ? (
            <g key={i}>
              <rect
                x={s.box[0]}
                y={s.box[1]}
                width={s.box[2]}
                height={s.box[3]}
                fill="none"
                stroke={s.color ?? '#12b886'}
                strokeWidth={stroke}
                strokeDasharray={s.dashed ? `${stroke * 3} ${stroke * 2}` : undefined}
              />
              {s.label && (
                <text
                  x={s.box[0] + stroke}
                  y={Math.max(font, s.box[1] - stroke * 2)}
                  fontSize={font}
                  fontFamily="system-ui, sans-serif"
                  fontWeight={600}
                  fill="#fff"
                  stroke="rgba(0,0,0,0.75)"
                  strokeWidth={font / 6}
                  paintOrder="stroke"
                >
                  {s.label}
                </text>
              )}
            </g>
          ) : (
            <g key={i}>
              {s.points.map((p, j) => (
                <circle key={j} cx={p[0]} cy={p[1]} r={stroke * 1.5} fill={s.color ?? '#fab005'} />
              ))}
            </g>
          ),
        )}
      </svg>
    </MBox>
  );
}
