import type { Actor } from '../modules/identity/actor.ts';

/**
 * Decides whether an actor may join a room. `room` is the full name (`session:01h…`), `key` the
 * part after the prefix (`01h…`, or '' for the bare prefix). Return false, or throw an AppError,
 * to refuse; thrown AppErrors reach the client as their code and message.
 */
export type RoomAuthorizer = (actor: Actor, room: string, key: string) => boolean | Promise<boolean>;

/** What a client receives right after joining, so it never starts from a blank screen. */
export type RoomSnapshot = (room: string, key: string) => Promise<{ event: string; payload: unknown } | null>;

export const ROOM_NAME = /^[A-Za-z0-9_.:-]{1,160}$/;

/**
 * The rooms a socket may join, by prefix. Rooms are `<prefix>` or `<prefix>:<key>`; a room whose
 * prefix nobody registered cannot be joined at all, so a new feature's rooms stay closed until
 * its module says who may enter them.
 */
export class RoomRegistry {
  private readonly authorizers = new Map<string, RoomAuthorizer>();
  private readonly snapshots = new Map<string, RoomSnapshot>();

  registerRoomAuthorizer(prefix: string, fn: RoomAuthorizer): void {
    const p = normalizePrefix(prefix);
    if (this.authorizers.has(p)) throw new Error(`A room authorizer for "${p}" is already registered`);
    this.authorizers.set(p, fn);
  }

  registerRoomSnapshot(prefix: string, fn: RoomSnapshot): void {
    this.snapshots.set(normalizePrefix(prefix), fn);
  }

  /** The prefix, key and authorizer of a room name, or undefined when no module owns it. */
  resolve(
    room: string,
  ): { prefix: string; key: string; authorize: RoomAuthorizer; snapshot?: RoomSnapshot } | undefined {
    const i = room.indexOf(':');
    const prefix = i === -1 ? room : room.slice(0, i);
    const key = i === -1 ? '' : room.slice(i + 1);
    const authorize = this.authorizers.get(prefix);
    if (!authorize) return undefined;
    return { prefix, key, authorize, snapshot: this.snapshots.get(prefix) };
  }
}

function normalizePrefix(prefix: string): string {
  const p = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  if (!/^[a-z][a-z0-9_-]*$/.test(p)) throw new Error(`Bad room prefix "${prefix}"`);
  return p;
}
