import { useEffect, useReducer, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { groupKey, type GradeCounters, type GroupCounters } from './api.ts';

export type LiveStatus = 'connecting' | 'live' | 'offline' | 'refused';

export interface LiveSocket {
  socket: Socket | null;
  status: LiveStatus;
  error: string | null;
}

/**
 * One Socket.IO connection for the page, authenticated by the session cookie. The server
 * forgets a socket's rooms when it reconnects, so `useRoom` joins again on every `connect`.
 */
export function useLiveSocket(): LiveSocket {
  const [socket, setSocket] = useState<Socket | null>(null);
  const [state, setState] = useState<{ status: LiveStatus; error: string | null }>({
    status: 'connecting',
    error: null,
  });

  useEffect(() => {
    const s = io({ path: '/socket.io', transports: ['websocket'], withCredentials: true, reconnectionDelayMax: 5000 });
    s.on('connect', () => setState({ status: 'live', error: null }));
    s.on('disconnect', (reason) => {
      setState({ status: 'offline', error: null });
      // The client does not retry after a server-side disconnect. Servers close sockets when they
      // shut down (rolling restarts) and when a session ends: reconnecting tells the two apart, as
      // an ended session is refused at the handshake.
      if (reason === 'io server disconnect') s.connect();
    });
    s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      const refused = code === 'unauthorized' || code === 'invalid_token' || code === 'origin_refused';
      setState({ status: refused ? 'refused' : 'offline', error: err.message });
    });
    setSocket(s);
    return () => {
      s.removeAllListeners();
      s.disconnect();
    };
  }, []);

  return { socket, ...state };
}

export interface RoomState {
  joined: boolean;
  error: string | null;
}

type JoinAck = { ok: true } | { ok: false; error: string; message: string };

/** Joins `room` while mounted (and again after reconnects) and calls `onEvent` for `event`. */
export function useRoom<T>(socket: Socket | null, room: string | null, event: string, onEvent: (payload: T) => void) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [state, setState] = useState<RoomState>({ joined: false, error: null });

  useEffect(() => {
    if (!socket || !room) return;
    let active = true;
    const listener = (payload: T) => handler.current(payload);
    socket.on(event, listener);
    const join = () =>
      socket.emit('join', room, (ack: JoinAck) => {
        if (!active) return;
        setState(ack.ok ? { joined: true, error: null } : { joined: false, error: ack.message });
      });
    const lost = () => active && setState((s) => ({ ...s, joined: false }));
    // The server re-checks rooms now and then, e.g. after the user's role changed.
    const revoked = (p: { room?: string }) =>
      active && p.room === room && setState({ joined: false, error: 'You may no longer watch these figures' });
    socket.on('connect', join);
    socket.on('disconnect', lost);
    socket.on('room:revoked', revoked);
    if (socket.connected) join();
    return () => {
      active = false;
      socket.off(event, listener);
      socket.off('connect', join);
      socket.off('disconnect', lost);
      socket.off('room:revoked', revoked);
      if (socket.connected) socket.emit('leave', room);
      setState({ joined: false, error: null });
    };
  }, [socket, room, event]);

  return state;
}

export interface CountersState {
  total: number | null;
  groups: Map<string, GroupCounters>;
  /** When the last update arrived (ms), or null before any. */
  updatedAt: number | null;
  /** Records per second over the last few seconds of updates. */
  rate: number;
  samples: { t: number; total: number }[];
}

const RATE_WINDOW_MS = 10_000;

function reduceCounters(state: CountersState, update: GradeCounters): CountersState {
  const groups = new Map(state.groups);
  // Counters only grow; the larger value is the newer one if two updates cross.
  for (const g of update.groups) {
    const key = groupKey(g);
    const old = groups.get(key);
    groups.set(
      key,
      old ? { ...g, records: Math.max(old.records, g.records), students: Math.max(old.students, g.students) } : g,
    );
  }
  const t = Date.now();
  const total = Math.max(state.total ?? 0, update.total);
  const samples = [...state.samples.filter((s) => t - s.t <= RATE_WINDOW_MS), { t, total }];
  const first = samples[0];
  const span = (t - first.t) / 1000;
  const rate = samples.length > 1 && span > 0 ? (total - first.total) / span : 0;
  return { total, groups, updatedAt: t, rate, samples };
}

/** The `grades` room as state: the overall total and every course-semester group. */
export function useLiveCounters(socket: Socket | null) {
  const [state, dispatch] = useReducer(reduceCounters, {
    total: null,
    groups: new Map(),
    updatedAt: null,
    rate: 0,
    samples: [],
  });
  const room = useRoom<GradeCounters>(socket, 'grades', 'grades:counters', dispatch);
  return { ...state, room };
}
