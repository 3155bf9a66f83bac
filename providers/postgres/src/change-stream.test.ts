import { describe, expect, it } from '@jest/globals';
import { silentLogger, type FireOptions } from '@kindling/sdk';
import { ChangeStream, type PgCursor, type ReplicationLink } from './change-stream.js';
import { formatLsn } from './lsn.js';
import { frames } from './testing/pgoutput-frames.js';

// The ordering and acknowledgement logic, driven with hand-built pgoutput frames, a fire that
// the test resolves when it chooses, and a recording replication link. The integration suite
// checks the same promises against a real PostgreSQL and a real bus.
const at = new Date('2026-03-01T12:00:00Z');
const relation = frames.relation(1, 'public', 'items', 'd', [{ name: 'id', typeOid: 23, key: true }]);

interface Deferred {
  id: string;
  resolve(): void;
  reject(error: Error): void;
}

function harness(options: { maxPending?: number; maxInFlight?: number } = {}) {
  const fires: Deferred[] = [];
  const confirmed: string[] = [];
  const failures: string[] = [];
  const link = { paused: false, closed: false };
  let cursor: PgCursor | undefined;
  const replication: ReplicationLink = {
    confirm: (lsn) => confirmed.push(formatLsn(lsn)),
    pause: () => (link.paused = true),
    resume: () => (link.paused = false),
    close: async () => void (link.closed = true),
  };
  const stream = new ChangeStream(
    {
      ctx: {
        fire: (_data: unknown, options?: FireOptions) =>
          new Promise((resolve, reject) => {
            fires.push({ id: options?.id ?? '?', resolve: () => resolve({ event: {} as never, duplicate: false }), reject });
          }),
        cursor: {
          get: async <T>() => cursor as T | undefined,
          set: async <T>(value: T) => void (cursor = value as PgCursor),
        },
        log: silentLogger(),
        fail: (error: unknown) => failures.push((error as Error).message),
      },
      scrub: (error) => error as Error,
      checkpointIntervalMs: 1,
      ...options,
    },
    0n,
  );
  stream.attach(replication);
  stream.onData(relation);
  const transaction = (lsn: bigint, end: bigint, rows: number) => {
    stream.onData(frames.begin(lsn, at, Number(lsn)));
    for (let i = 0; i < rows; i++) stream.onData(frames.insert(1, [String(i)]));
    stream.onData(frames.commit(lsn, end, at));
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { stream, fires, confirmed, failures, link, transaction, settle, cursor: () => cursor };
}

describe('ChangeStream', () => {
  it('issues fires in commit order, and confirms a transaction only once it and everything before it are durable', async () => {
    const h = harness();
    h.transaction(0x100n, 0x120n, 2);
    h.transaction(0x200n, 0x220n, 1);
    await h.settle();
    expect(h.fires.map((f) => f.id)).toEqual(['0/100:0', '0/100:1', '0/200:0']);

    // The second transaction's event is durable first: nothing moves until the first one's are.
    h.fires[2]?.resolve();
    h.fires[0]?.resolve();
    await h.settle();
    expect(h.confirmed).toEqual([]);
    expect(h.cursor()).toBeUndefined();

    h.fires[1]?.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/220']);
    expect(h.cursor()).toEqual({ lsn: '0/220' });
    expect(h.stream.durableLsn).toBe(0x220n);
  });

  it('keeps at most maxInFlight fires in flight, starting the next as one settles', async () => {
    const h = harness({ maxInFlight: 2 });
    h.transaction(0x100n, 0x120n, 3);
    await h.settle();
    expect(h.fires).toHaveLength(2);
    h.fires[0]?.resolve();
    await h.settle();
    expect(h.fires.map((f) => f.id)).toEqual(['0/100:0', '0/100:1', '0/100:2']);
    h.fires[1]?.resolve();
    h.fires[2]?.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/120']);
  });

  it('answers a keepalive with the durable position, and moves past idle WAL only when nothing is in flight', async () => {
    const h = harness();
    h.transaction(0x100n, 0x120n, 1);
    await h.settle();
    h.stream.onKeepalive(0x500n, true);
    expect(h.confirmed).toEqual(['0/0']);
    h.fires[0]?.resolve();
    await h.settle();
    expect(h.confirmed.at(-1)).toBe('0/120');

    h.stream.onKeepalive(0x500n, true);
    await h.settle();
    expect(h.stream.durableLsn).toBe(0x500n);
    expect(h.cursor()).toEqual({ lsn: '0/500' });
  });

  it('stops at a failed fire: reports it, fires nothing more, and never confirms past it', async () => {
    const h = harness();
    h.transaction(0x100n, 0x120n, 1);
    h.transaction(0x200n, 0x220n, 2);
    h.transaction(0x300n, 0x320n, 1);
    await h.settle();
    h.fires[0]?.resolve();
    h.fires[1]?.reject(new Error('bus unavailable'));
    h.fires[2]?.resolve();
    h.fires[3]?.resolve();
    await h.settle();
    expect(h.failures).toEqual(['bus unavailable']);
    h.transaction(0x400n, 0x420n, 1);
    await h.settle();
    expect(h.fires).toHaveLength(4);
    expect(h.stream.durableLsn).toBe(0x120n);
    await h.stream.stop();
    expect(h.cursor()).toEqual({ lsn: '0/120' });
    expect(h.link.closed).toBe(true);
  });

  it('pauses the connection while too many changes wait, and resumes when they drain', async () => {
    const h = harness({ maxPending: 10, maxInFlight: 4 });
    h.transaction(0x100n, 0x120n, 12);
    expect(h.link.paused).toBe(true);
    for (let i = 0; i < 12; i++) {
      await h.settle();
      h.fires[i]?.resolve();
    }
    await h.settle();
    expect(h.fires).toHaveLength(12);
    expect(h.link.paused).toBe(false);
    expect(h.confirmed.at(-1)).toBe('0/120');
  });

  it('on stop lets the fires in flight finish, stores the durable position, fires nothing more and closes', async () => {
    const h = harness({ maxInFlight: 1 });
    h.transaction(0x100n, 0x120n, 1);
    h.transaction(0x200n, 0x220n, 1);
    await h.settle();
    const stopped = h.stream.stop();
    h.fires[0]?.resolve();
    await stopped;
    expect(h.fires).toHaveLength(1);
    expect(h.cursor()).toEqual({ lsn: '0/120' });
    expect(h.link.closed).toBe(true);
    h.stream.onData(frames.begin(0x300n, at, 3));
    expect(h.fires).toHaveLength(1);
  });
});
