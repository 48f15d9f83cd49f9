import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

export type BusHandler = (payload: unknown) => void;

/**
 * Publish/subscribe between the parts of the product (ingest → sockets, jobs → progress).
 * In process by default; through Redis when several instances run.
 */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, payload: unknown): void;
  subscribe(channel: string, handler: BusHandler): () => void;
  close(): Promise<void>;
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(channel: string, payload: unknown): void {
    // Deliver asynchronously, like Redis, so publishers never run subscriber code inline.
    queueMicrotask(() => this.emitter.emit(channel, payload));
  }

  subscribe(channel: string, handler: BusHandler): () => void {
    this.emitter.on(channel, handler);
    return () => this.emitter.off(channel, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly local = new EventEmitter().setMaxListeners(0);

  constructor(
    url: string,
    private readonly prefix = 'aula:bus:',
  ) {
    const opts = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, { ...opts, enableOfflineQueue: true });
    // Outages are expected and survivable: errors are reported by health checks, not thrown here.
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('message', (ch: string, msg: string) => {
      let payload: unknown;
      try {
        payload = JSON.parse(msg);
      } catch {
        return;
      }
      this.local.emit(ch.slice(this.prefix.length), payload);
    });
  }

  publish(channel: string, payload: unknown): void {
    this.pub.publish(this.prefix + channel, JSON.stringify(payload)).catch(() => {});
  }

  subscribe(channel: string, handler: BusHandler): () => void {
    if (this.local.listenerCount(channel) === 0) void this.sub.subscribe(this.prefix + channel).catch(() => {});
    this.local.on(channel, handler);
    return () => {
      this.local.off(channel, handler);
      if (this.local.listenerCount(channel) === 0) void this.sub.unsubscribe(this.prefix + channel).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.local.removeAllListeners();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
