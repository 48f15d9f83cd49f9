import type { Face } from './api.ts';

interface FaceOverlayProps {
  faces: Face[];
  /** Size of the frame the boxes refer to. */
  width: number;
  height: number;
}

const color = (f: Face) =>
  f.known ? (f.review === 'assigned' || f.review === 'confirmed' ? '#4dabf7' : '#38d9a9') : '#ffa94d';

/** Boxes, names and confidence over a frame; scales with the image it covers. */
export function FaceOverlay({ faces, width, height }: FaceOverlayProps) {
  if (!width || !height) return null;
  const stroke = Math.max(2, Math.round(width / 400));
  const font = Math.max(12, Math.round(width / 60));
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMid meet"
      style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', pointerEvents: 'none' }}
      role="img"
      aria-label={`${faces.length} face(s): ${faces.map((f) => f.name ?? 'unknown').join(', ')}`}
    >
      {faces.map((f, i) => {
        const [x, y, w, h] = f.box;
        const label = `${f.name ?? 'Unknown'}${f.known ? ` ${Math.round(f.confidence * 100)}%` : ''}${f.handRaised ? ' · hand up' : ''}`;
        return (
          <g key={`${f.trackId}-${i}`} data-testid="face-box" data-name={f.name ?? ''}>
            <rect x={x} y={y} width={w} height={h} fill="none" stroke={color(f)} strokeWidth={stroke} rx={stroke * 2} />
            <rect
              x={x}
              y={Math.max(0, y - font * 1.5)}
              width={Math.max(w, label.length * font * 0.72 + 12)}
              height={font * 1.4}
              fill={color(f)}
              opacity={0.85}
            />
            <text x={x + 4} y={Math.max(font, y - font * 0.4)} fontSize={font} fill="#111" fontWeight={600}>
              {label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
