import { describe, expect, it } from '@jest/globals';
import { sleep } from '@kindling/core';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('runs the timers that fall due in an advance, in due order, each at its due time', async () => {
    const clock = new FakeClock('2030-01-01T00:00:00Z');
    const ran: Array<[string, number]> = [];
    clock.setTimeout(() => ran.push(['b', clock.now()]), 200);
    clock.setTimeout(() => ran.push(['a', clock.now()]), 100);
    clock.setTimeout(() => ran.push(['c', clock.now()]), 300);
    await clock.advance(250);
    const start = Date.parse('2030-01-01T00:00:00Z');
    expect(ran).toEqual([
      ['a', start + 100],
      ['b', start + 200],
    ]);
    expect(clock.now()).toBe(start + 250);
    expect(clock.pendingAt()).toEqual([start + 300]);
  });

  it('runs timers due at the same time in the order they were set, and those their callbacks set within the advance', async () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.setTimeout(() => {
      ran.push('first');
      clock.setTimeout(() => ran.push('chained'), 10);
    }, 50);
    clock.setTimeout(() => ran.push('second'), 50);
    await clock.advance(100);
    expect(ran).toEqual(['first', 'second', 'chained']);
  });

  it('lets promise chains finish between timers, as core sleep() loops need', async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 1000);
        await Promise.resolve();
        ticks.push(clock.now());
      }
    })();
    await clock.advance(3000);
    await loop;
    expect(ticks).toEqual([1000, 2000, 3000]);
  });

  it('clears timers, and an aborted sleep clears its own', async () => {
    const clock = new FakeClock(0);
    const handle = clock.setTimeout(() => undefined, 10);
    clock.clearTimeout(handle);
    const abort = new AbortController();
    const slept = sleep(clock, 1000, abort.signal).catch(() => 'aborted');
    expect(clock.pendingTimers).toBe(1);
    abort.abort();
    expect(await slept).toBe('aborted');
    expect(clock.pendingTimers).toBe(0);
  });

  it('records an owner and, when asked, where each timer was set', () => {
    const clock = new FakeClock(0, { ownerOf: () => 'feed-1', recordStacks: true });
    clock.setTimeout(() => undefined, 5);
    const [timer] = clock.pending();
    expect(timer).toMatchObject({ at: 5, owner: 'feed-1' });
    expect(timer?.createdAt).toContain('fake-clock.test.ts');
  });

  it('runNext moves to the earliest timer; false when none is pending', async () => {
    const clock = new FakeClock(0);
    let ran = false;
    clock.setTimeout(() => (ran = true), 5000);
    expect(await clock.runNext()).toBe(true);
    expect([ran, clock.now()]).toEqual([true, 5000]);
    expect(await clock.runNext()).toBe(false);
  });

  it('refuses a start that is no time', () => {
    expect(() => new FakeClock('yesterday-ish')).toThrow("FakeClock: start must be a time, got 'yesterday-ish'");
  });
});
