import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from '@kindling/provider-testkit';
import { TimerQueue } from './timer-queue.js';

const start = Date.parse('2024-01-01T00:00:00Z');

describe('TimerQueue', () => {
  it('runs entries at their due times, in order, with one clock timer for all of them', async () => {
    const clock = new FakeClock(start);
    const queue = new TimerQueue(clock);
    const runs: Array<[string, number, number]> = [];
    const entries = ['c', 'a', 'b'].map((name, i) => {
      const entry = queue.register(async (dueAt) => {
        runs.push([name, dueAt, clock.now()]);
      });
      entry.schedule(start + [300, 100, 200][i]!);
      return entry;
    });
    const many = Array.from({ length: 1000 }, (_, i) => {
      const entry = queue.register(async () => undefined);
      entry.schedule(start + 10_000 + i);
      return entry;
    });
    expect(clock.pendingTimers).toBe(1);
    expect(queue.size).toBe(1003);
    await clock.advance(250);
    expect(runs).toEqual([
      ['a', start + 100, start + 100],
      ['b', start + 200, start + 200],
    ]);
    await clock.advance(100);
    expect(runs.map((r) => r[0])).toEqual(['a', 'b', 'c']);
    expect(entries.every((e) => !e.pending)).toBe(true);
    await clock.advance(20_000);
    expect(queue.size).toBe(0);
    expect(many.every((e) => !e.pending)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancels and reschedules entries', async () => {
    const clock = new FakeClock(start);
    const queue = new TimerQueue(clock);
    const runs: number[] = [];
    const cancelled = queue.register(async (dueAt) => void runs.push(dueAt));
    const moved = queue.register(async (dueAt) => void runs.push(dueAt));
    cancelled.schedule(start + 100);
    moved.schedule(start + 100);
    moved.schedule(start + 500);
    cancelled.cancel();
    await clock.advance(1000);
    expect(runs).toEqual([start + 500]);
  });

  it('runs due entries concurrently, at most maxInFlight at once, without the timer awaiting them', async () => {
    const clock = new FakeClock(start);
    const queue = new TimerQueue(clock, { maxInFlight: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let concurrent = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 5; i++) {
      queue
        .register(async () => {
          concurrent++;
          peak = Math.max(peak, concurrent);
          await gate;
          concurrent--;
          done++;
        })
        .schedule(start + 10);
    }
    const late = queue.register(async () => void done++);
    late.schedule(start + 20);
    await clock.advance(20);
    expect(queue.inFlight).toBe(2);
    expect(done).toBe(0);
    release();
    await settle();
    expect(done).toBe(6);
    expect(peak).toBe(2);
  });

  it('reaches a due time beyond what one timer can wait (setTimeout caps at ~24.8 days)', async () => {
    const clock = new FakeClock(start);
    const queue = new TimerQueue(clock);
    const runs: number[] = [];
    const due = start + 40 * 86_400_000;
    queue.register(async () => void runs.push(clock.now())).schedule(due);
    expect(clock.pendingAt()[0]).toBeLessThanOrEqual(start + 86_400_000);
    await clock.advanceTo(due - 1);
    expect(runs).toEqual([]);
    await clock.advanceTo(due);
    expect(runs).toEqual([due]);
  });

  it('reports a run that throws and keeps serving the others', async () => {
    const clock = new FakeClock(start);
    const errors: unknown[] = [];
    const queue = new TimerQueue(clock, { onRunError: (error) => errors.push(error) });
    const runs: string[] = [];
    queue
      .register(() => {
        throw new Error('boom');
      })
      .schedule(start + 1);
    queue.register(async () => void runs.push('ok')).schedule(start + 2);
    await clock.advance(10);
    expect(errors).toHaveLength(1);
    expect(runs).toEqual(['ok']);
  });

  it('forgets everything and clears its timer on close', async () => {
    const clock = new FakeClock(start);
    const queue = new TimerQueue(clock);
    const runs: number[] = [];
    queue.register(async (dueAt) => void runs.push(dueAt)).schedule(start + 10);
    queue.close();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    expect(runs).toEqual([]);
  });
});
