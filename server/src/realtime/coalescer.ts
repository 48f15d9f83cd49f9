/**
 * Rate-limits a stream of values per key to one flush every `intervalMs`, without ever losing the
 * last value: the first value after a quiet period goes out at once (leading edge), values that
 * arrive inside the window are merged into one pending value, and a trailing flush at the end of
 * the window delivers it. Dashboards therefore see changes immediately when traffic is light and
 * at most 1000 / intervalMs updates a second when it is heavy, always ending on the final state.
 */
export class Coalescer<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: (key: string, value: T) => void,
    private readonly merge: (pending: T | undefined, next: T) => T = (_pending, next) => next,
  ) {}

  push(key: string, value: T): void {
    if (this.closed) return;
    const now = performance.now();
    let slot = this.slots.get(key);
    if (!slot) {
      if (this.slots.size >= 10_000) this.prune(now);
      slot = { last: Number.NEGATIVE_INFINITY, pending: undefined, hasPending: false, timer: undefined };
      this.slots.set(key, slot);
    }
    slot.pending = this.merge(slot.hasPending ? slot.pending : undefined, value);
    slot.hasPending = true;
    if (slot.timer) return;
    const wait = slot.last + this.intervalMs - now;
    if (wait <= 0) {
      this.fire(key, slot, now);
      return;
    }
    const s = slot;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.fire(key, s, performance.now());
    }, wait);
  }

  /** Drops pending values and timers; nothing is flushed after this. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) if (slot.timer) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private fire(key: string, slot: Slot<T>, now: number): void {
    if (!slot.hasPending) return;
    const value = slot.pending as T;
    slot.pending = undefined;
    slot.hasPending = false;
    slot.last = now;
    this.flush(key, value);
  }

  // Rooms come and go (one per course and semester); forget the ones that have been quiet.
  private prune(now: number): void {
    for (const [key, slot] of this.slots) {
      if (!slot.timer && !slot.hasPending && now - slot.last > this.intervalMs) this.slots.delete(key);
    }
  }
}

interface Slot<T> {
  last: number;
  pending: T | undefined;
  hasPending: boolean;
  timer: NodeJS.Timeout | undefined;
}
