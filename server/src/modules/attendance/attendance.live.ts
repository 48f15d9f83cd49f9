import type { Bus } from '../../platform/bus/bus.ts';
import { REALTIME_CHANNEL } from '../../realtime/sockets.ts';

/** Socket.IO rooms of attendance: a class session's live roster, and one capture's progress. */
export const SESSION_ROOM = 'session';
export const CAPTURE_ROOM = 'capture';

/** Events, with the full current state as payload (rooms keep only the latest of each event). */
export const EVENTS = {
  /** `session:<id>`: the roster with statuses. */
  roster: 'attendance',
  /** `session:<id>`: the latest captures with status and progress. */
  captures: 'captures',
  /** `session:<id>`: the faces of the latest live frame, for the overlay of other viewers. */
  frame: 'frame',
  /** `capture:<id>`: status and progress of one capture. */
  progress: 'progress',
} as const;

/**
 * Pushes attendance changes to the sockets watching them, on every instance: the bus carries the
 * event (Redis pub/sub when scaled), each instance emits to its own sockets.
 */
export class AttendanceLive {
  constructor(private readonly bus: Bus) {}

  emit(room: string, event: string, payload: unknown): void {
    this.bus.publish(REALTIME_CHANNEL, { room, event, payload });
  }

  session(sessionId: string, event: string, payload: unknown): void {
    this.emit(`${SESSION_ROOM}:${sessionId}`, event, payload);
  }

  capture(captureId: string, payload: unknown): void {
    this.emit(`${CAPTURE_ROOM}:${captureId}`, EVENTS.progress, payload);
  }
}
