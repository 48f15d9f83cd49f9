import { newId } from '../../platform/ids.ts';
import type { Box } from '../../vision/engine.ts';

/**
 * Face tracks across the sampled frames of one capture. A face in a frame continues the track
 * whose last box it overlaps most (greedy by IoU); a track is identified from a few embeddings
 * and its later faces inherit the identity, so a video is not re-identified on every frame.
 * Identified tracks are re-checked now and then, in case two people swapped seats.
 */

export interface TrackerOptions {
  /** Smallest overlap between a face and a track's last box to continue the track. */
  minIou: number;
  /** A track unseen for more than this many sampled frames is over. */
  maxGapFrames: number;
  /** Known matches needed before a track stops being embedded on every frame. */
  confirmations: number;
  /** An identified track is matched again after this many frames. */
  reverifyEvery: number;
  /** A track never matched is tried this many times, then only on re-verification. */
  maxUnknownTries: number;
}

export const DEFAULT_TRACKER: TrackerOptions = {
  minIou: 0.3,
  maxGapFrames: 2,
  confirmations: 2,
  reverifyEvery: 12,
  maxUnknownTries: 3,
};

export interface MatchVote {
  studentId: string | null;
  confidence: number;
  distance: number | null;
}

interface Vote {
  count: number;
  confidence: number;
  distance: number | null;
}

export interface Track {
  /** Globally unique: observations and unknown faces refer to it. */
  no: string;
  box: Box;
  lastFrame: number;
  votes: Map<string, Vote>;
  unknownVotes: number;
  embeds: number;
  lastEmbedFrame: number;
  /** Nearest gallery identity while unknown (for the review screen). */
  nearest: { studentId: string; distance: number } | null;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

export class Tracker {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly opts: TrackerOptions = DEFAULT_TRACKER) {}

  get size(): number {
    return this.tracks.size;
  }

  active(frame: number): Track[] {
    return [...this.tracks.values()].filter((t) => frame - t.lastFrame <= this.opts.maxGapFrames);
  }

  get(no: string): Track | undefined {
    return this.tracks.get(no);
  }

  all(): Track[] {
    return [...this.tracks.values()];
  }

  /**
   * The track of each face box of a frame, continuing active tracks where the boxes overlap and
   * starting new ones elsewhere. Each track takes at most one face per frame.
   */
  associate(frame: number, boxes: Box[]): { trackNo: string; isNew: boolean }[] {
    const active = this.active(frame);
    const pairs: { face: number; track: Track; iou: number }[] = [];
    for (const [face, box] of boxes.entries()) {
      for (const track of active) {
        const v = iou(box, track.box);
        if (v >= this.opts.minIou) pairs.push({ face, track, iou: v });
      }
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const out: ({ trackNo: string; isNew: boolean } | null)[] = boxes.map(() => null);
    const taken = new Set<string>();
    for (const p of pairs) {
      if (out[p.face] || taken.has(p.track.no)) continue;
      taken.add(p.track.no);
      out[p.face] = { trackNo: p.track.no, isNew: false };
    }
    return out.map((o, face) => {
      const box = boxes[face];
      if (o) {
        const t = this.tracks.get(o.trackNo)!;
        t.box = box;
        t.lastFrame = frame;
        return o;
      }
      return { trackNo: this.start(frame, box), isNew: true };
    });
  }

  private start(frame: number, box: Box, no = newId()): string {
    this.tracks.set(no, {
      no,
      box,
      lastFrame: frame,
      votes: new Map(),
      unknownVotes: 0,
      embeds: 0,
      lastEmbedFrame: -Infinity,
      nearest: null,
    });
    return no;
  }

  /** Whether this frame should compute and match the track's face descriptor. */
  needsEmbedding(no: string, frame: number): boolean {
    const t = this.tracks.get(no);
    if (!t) return true;
    if (t.embeds === 0) return true;
    const best = this.best(t);
    const since = frame - t.lastEmbedFrame;
    if (best && best.count >= this.opts.confirmations) return since >= this.opts.reverifyEvery;
    if (!best && t.embeds >= this.opts.maxUnknownTries) return since >= this.opts.reverifyEvery;
    return true;
  }

  /** Records the match of one embedded face of the track. */
  vote(no: string, frame: number, m: MatchVote, nearest?: { studentId: string; distance: number } | null): void {
    const t = this.tracks.get(no);
    if (!t) return;
    t.embeds++;
    t.lastEmbedFrame = frame;
    if (m.studentId) {
      const v = t.votes.get(m.studentId) ?? { count: 0, confidence: 0, distance: null };
      v.count++;
      if (m.confidence > v.confidence) {
        v.confidence = m.confidence;
        v.distance = m.distance;
      }
      t.votes.set(m.studentId, v);
    } else {
      t.unknownVotes++;
      if (nearest && (!t.nearest || nearest.distance < t.nearest.distance)) t.nearest = nearest;
    }
  }

  private best(t: Track): ({ studentId: string } & Vote) | null {
    let out: ({ studentId: string } & Vote) | null = null;
    for (const [studentId, v] of t.votes) {
      if (!out || v.count > out.count || (v.count === out.count && v.confidence > out.confidence)) {
        out = { studentId, ...v };
      }
    }
    return out;
  }

  /** Who the track is, by most votes (then best confidence), or null while unknown. */
  identity(no: string): { studentId: string; confidence: number; distance: number | null } | null {
    const t = this.tracks.get(no);
    if (!t) return null;
    const b = this.best(t);
    return b ? { studentId: b.studentId, confidence: b.confidence, distance: b.distance } : null;
  }

  /** Forgets tracks that ended long ago (keeps a long live stream's memory flat). */
  prune(frame: number): void {
    for (const [no, t] of this.tracks) if (frame - t.lastFrame > this.opts.maxGapFrames * 4) this.tracks.delete(no);
  }

  /**
   * Rebuilds tracks from stored observations (a resumed job): each track's last box and frame,
   * and its identity as one vote per identified face.
   */
  restore(
    rows: {
      track_id: string;
      frame_index: number;
      box: string;
      student_id: string | null;
      confidence: number;
      identified: number;
      distance: number | null;
    }[],
  ): void {
    for (const r of [...rows].sort((a, b) => a.frame_index - b.frame_index)) {
      const box = JSON.parse(r.box) as Box;
      if (!this.tracks.has(r.track_id)) this.start(r.frame_index, box, r.track_id);
      const t = this.tracks.get(r.track_id)!;
      t.box = box;
      t.lastFrame = r.frame_index;
      if (r.identified)
        this.vote(r.track_id, r.frame_index, {
          studentId: r.student_id,
          confidence: r.confidence,
          distance: r.distance,
        });
    }
  }
}
