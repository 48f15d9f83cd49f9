import { describe, expect, it } from 'vitest';
import { ID_PATTERN } from '../../platform/ids.ts';
import { MonotonicIds } from './grade-ids.ts';

describe('record ids', () => {
  it('grow strictly within one millisecond, across milliseconds, and when the clock steps back', () => {
    const ids = new MonotonicIds();
    const out: string[] = [];
    for (let i = 0; i < 50_000; i++) out.push(ids.next(1_700_000_000_000));
    for (let i = 0; i < 1000; i++) out.push(ids.next(1_700_000_000_001 + Math.floor(i / 10)));
    for (let i = 0; i < 1000; i++) out.push(ids.next(1_600_000_000_000));
    const firstOutOfOrder = out.findIndex((id, i) => i > 0 && id <= out[i - 1]);
    expect(firstOutOfOrder).toBe(-1);
    expect(out.every((id) => ID_PATTERN.test(id))).toBe(true);
    expect(new Set(out).size).toBe(out.length);
  });
});
