import { describe, expect, it } from 'vitest';
import type { Box } from '../../vision/engine.ts';
import { deriveActions } from './actions.ts';
import { statusFor } from './attendance-rows.ts';
import { iou, Tracker } from './tracker.ts';
import { meanAbsDiff } from './capture-processor.ts';
import { selectExpression, sniffVideo } from '../../vision/video.ts';

describe('tracker', () => {
  const a: Box = [100, 100, 80, 80];
  const b: Box = [600, 120, 90, 90];

  it('measures overlap', () => {
    expect(iou(a, a)).toBe(1);
    expect(iou(a, b)).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150);
  });

  it('continues a face that moved a little and starts a track for a new one', () => {
    const t = new Tracker();
    const [first] = t.associate(0, [a]);
    expect(first.isNew).toBe(true);
    const next = t.associate(1, [b, [104, 98, 82, 80]]);
    expect(next[1]).toEqual({ trackNo: first.trackNo, isNew: false });
    expect(next[0].isNew).toBe(true);
    // Gone for longer than the gap: a face there later is someone new.
    t.associate(2, []);
    t.associate(3, []);
    t.associate(4, []);
    expect(t.associate(5, [a])[0].isNew).toBe(true);
  });

  it('identifies a track from a couple of matches, then only re-checks it now and then', () => {
    const t = new Tracker();
    const [{ trackNo }] = t.associate(0, [a]);
    expect(t.needsEmbedding(trackNo, 0)).toBe(true);
    t.vote(trackNo, 0, { studentId: 'ana', confidence: 0.7, distance: 0.4 });
    t.associate(1, [a]);
    expect(t.needsEmbedding(trackNo, 1)).toBe(true);
    t.vote(trackNo, 1, { studentId: 'ana', confidence: 0.8, distance: 0.3 });
    for (let f = 2; f < 13; f++) {
      t.associate(f, [a]);
      expect(t.needsEmbedding(trackNo, f), `frame ${f}`).toBe(false);
    }
    t.associate(13, [a]);
    expect(t.needsEmbedding(trackNo, 13)).toBe(true);
    expect(t.identity(trackNo)).toEqual({ studentId: 'ana', confidence: 0.8, distance: 0.3 });
    // A single disagreeing match does not flip an identity that two agreed on.
    t.vote(trackNo, 13, { studentId: 'bea', confidence: 0.9, distance: 0.2 });
    expect(t.identity(trackNo)?.studentId).toBe('ana');
  });

  it('rebuilds tracks and identities from stored observations', () => {
    const t = new Tracker();
    t.restore([
      {
        track_id: 'x',
        frame_index: 4,
        box: JSON.stringify(a),
        student_id: 'ana',
        confidence: 0.7,
        identified: 1,
        distance: 0.4,
      },
      {
        track_id: 'x',
        frame_index: 5,
        box: JSON.stringify(a),
        student_id: 'ana',
        confidence: 0.7,
        identified: 0,
        distance: null,
      },
    ]);
    expect(t.associate(6, [a])[0]).toEqual({ trackNo: 'x', isNew: false });
    expect(t.identity('x')?.studentId).toBe('ana');
  });
});

describe('actions timeline', () => {
  const s = (at: number, hand = false, facing: string | null = 'camera') => ({
    studentId: 'ana',
    at,
    handRaised: hand,
    facing,
  });
  const opts = { gapMs: 600_000, facingAwayMs: 120_000 };

  it('counts each run of raised hands once, with its times', () => {
    const frames = [0, 10, 20, 30, 40, 50].map((x) => x * 1000);
    const ev = deriveActions(
      frames,
      [s(0), s(10_000, true), s(20_000, true), s(30_000), s(40_000, true), s(50_000)],
      opts,
    );
    const raised = ev.filter((e) => e.kind === 'hand_raised');
    expect(raised.map((e) => [e.at, e.endsAt])).toEqual([
      [10_000, 20_000],
      [40_000, 40_000],
    ]);
  });

  it('flags long stretches facing away and long unseen gaps while the camera looked', () => {
    const frames = Array.from({ length: 100 }, (_, i) => i * 10_000);
    const sightings = [
      ...Array.from({ length: 20 }, (_, i) => s(i * 10_000, false, i >= 5 && i < 19 ? 'left' : 'camera')),
      s(900_000),
    ];
    const ev = deriveActions(frames, sightings, opts);
    expect(ev.filter((e) => e.kind === 'facing_away').map((e) => [e.at, e.endsAt])).toEqual([[50_000, 180_000]]);
    const gaps = ev.filter((e) => e.kind === 'not_seen');
    expect(gaps.map((e) => [e.at, e.endsAt])).toEqual([[190_000, 900_000]]);
    // The camera stopped looking: a student not in later frames is not "missing" without frames.
    expect(deriveActions([0, 10_000], [s(0), s(10_000)], opts).filter((e) => e.kind === 'not_seen')).toEqual([]);
  });
});

describe('statuses and sampling', () => {
  it('is present up to the late threshold and late after it', () => {
    const session = { starts_at: 1_000_000, late_after_minutes: 10 } as Parameters<typeof statusFor>[0];
    expect(statusFor(session, 1_000_000 - 60_000)).toBe('present');
    expect(statusFor(session, 1_000_000 + 600_000)).toBe('present');
    expect(statusFor(session, 1_000_000 + 600_001)).toBe('late');
  });

  it('samples on scene changes with a minimum and a maximum interval', () => {
    expect(selectExpression({ maxIntervalMs: 10_000, minIntervalMs: 1000, sceneThreshold: 0.04 })).toBe(
      'isnan(prev_selected_t)+gte(t-prev_selected_t\\,10.000)+gt(scene\\,0.04)*gte(t-prev_selected_t\\,1.000)',
    );
  });

  it('recognizes video containers by their first bytes', () => {
    const box = (type: string, brand: string) =>
      Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from(type + brand + '\0\0\0\0')]);
    expect(sniffVideo(box('ftyp', 'isom'))).toBe('mp4');
    expect(sniffVideo(box('ftyp', 'qt  '))).toBe('mov');
    expect(sniffVideo(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.from('....webm')]))).toBe('webm');
    expect(sniffVideo(Buffer.from('GIF89a........'))).toBeNull();
  });

  it('tells a still frame from a changed one', () => {
    const x = Buffer.alloc(64 * 36, 100);
    const y = Buffer.from(x);
    expect(meanAbsDiff(x, y)).toBe(0);
    y.fill(140, 0, 64 * 9);
    expect(meanAbsDiff(x, y)).toBe(10);
  });
});
