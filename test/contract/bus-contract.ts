import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encodeToken, Streams, Subjects, type Consumption } from '@kindling/core';
import { Inbox, pause, text, type BackendUnderTest, type OpenBackend } from './backend-under-test.js';
import { eventually } from '@kindling/test-support';

/**
 * The `EventBus` contract (packages/core/src/bus.ts), declared for one backend. Each test gets a
 * fresh backend (on NATS: a scope of its own), so durable names and sequences start clean.
 */
export function busContract(open: OpenBackend): void {
  describe('EventBus contract', () => {
    let backend: BackendUnderTest;
    let consumptions: Consumption[];

    beforeEach(async () => {
      backend = await open();
      consumptions = [];
    });
    afterEach(async () => {
      await Promise.all(consumptions.map((c) => c.stop()));
      await backend.close();
    });

    const consume = async (...args: Parameters<BackendUnderTest['bus']['consume']>) => {
      const consumption = await backend.bus.consume(...args);
      consumptions.push(consumption);
      return consumption;
    };
    const event = (trigger: string) => Subjects.event('guest', trigger);

    it('delivers published messages in order, with subject, data, headers and sequence, once acked', async () => {
      const acks = [];
      for (const n of [1, 2, 3]) acks.push(await backend.bus.publish(event('t'), text(`m${n}`), { headers: { 'x-n': String(n) } }));
      expect(acks.map((a) => a.stream)).toEqual([Streams.events.name, Streams.events.name, Streams.events.name]);
      expect(acks.every((a) => !a.duplicate)).toBe(true);
      expect(acks[1]!.seq).toBeGreaterThan(acks[0]!.seq);
      expect(acks[2]!.seq).toBeGreaterThan(acks[1]!.seq);

      const inbox = new Inbox();
      await consume({ durable: 'reader', filter: Subjects.allEvents }, inbox.handler);
      const received = await inbox.waitFor(3);
      expect(inbox.texts).toEqual(['m1', 'm2', 'm3']);
      expect(received.map((m) => m.seq)).toEqual(acks.map((a) => a.seq));
      expect(received[0]!.subject).toBe(event('t'));
      expect(received[0]!.headers['x-n']).toBe('1');
      expect(received.every((m) => m.deliveryCount === 1)).toBe(true);
    });

    it('resolves publish concurrently for many messages, each with its own sequence', async () => {
      const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => backend.bus.publish(event('burst'), text(String(i)))));
      expect(new Set(acks.map((a) => a.seq)).size).toBe(200);
      await eventually(async () => (await backend.streamInfo(Streams.events.name)).messages === 200, 'the stream to hold 200 messages');
    });

    it('refuses a subject that no stream holds, or one with a wildcard', async () => {
      await expect(backend.bus.publish('elsewhere.a', text('x'))).rejects.toMatchObject({ code: 'KND_VALIDATION' });
      await expect(backend.bus.publish('kindling.events.*.x', text('x'))).rejects.toMatchObject({ code: 'KND_VALIDATION' });
    });

    it('refuses a message over 1 MiB (NATS\'s default max_payload) as too large', async () => {
      await expect(backend.bus.publish(event('t'), new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'KND_PAYLOAD_TOO_LARGE' });
    });

    it('delivers again, with a higher deliveryCount, what a consumer that died did not ack', async () => {
      await backend.bus.publish(event('t'), text('unlucky'));
      const first = new Inbox(() => undefined); // receives, never settles: the process "dies"
      const dying = await backend.bus.consume({ durable: 'worker', filter: Subjects.allEvents, ackWaitMs: 500 }, first.handler);
      await first.waitFor(1);
      await dying.stop();

      const second = new Inbox();
      await consume({ durable: 'worker', filter: Subjects.allEvents, ackWaitMs: 500 }, second.handler);
      const [again] = await second.waitFor(1);
      expect(again!.seq).toBe(first.received[0]!.seq);
      expect(again!.deliveryCount).toBe(2);
      expect(second.texts).toEqual(['unlucky']);
    });

    it('delivers a nak\'ed message again, no sooner than the delay asked', async () => {
      await backend.bus.publish(event('t'), text('later'));
      const times: number[] = [];
      const inbox = new Inbox((m) => {
        times.push(Date.now());
        if (m.deliveryCount === 1) m.nak(400);
        else m.ack();
      });
      await consume({ durable: 'retrier', filter: Subjects.allEvents, ackWaitMs: 10_000 }, inbox.handler);
      await inbox.waitFor(2);
      expect(inbox.received.map((m) => m.deliveryCount)).toEqual([1, 2]);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(300);
    });

    it('never delivers a terminated message again', async () => {
      await backend.bus.publish(event('t'), text('poison'));
      await backend.bus.publish(event('t'), text('fine'));
      const inbox = new Inbox((m) => (m.deliveryCount === 1 && Buffer.from(m.data).toString() === 'poison' ? m.term() : m.ack()));
      await consume({ durable: 'picky', filter: Subjects.allEvents, ackWaitMs: 300 }, inbox.handler);
      await inbox.waitFor(2);
      await pause(900); // three ack waits: time enough for a redelivery, were there to be one
      expect(inbox.texts).toEqual(['poison', 'fine']);
    });

    it('lets a handler that calls working() keep its message past the ack wait', async () => {
      await backend.bus.publish(event('t'), text('slow'));
      const inbox = new Inbox(async (m) => {
        for (let i = 0; i < 6; i++) {
          await pause(200);
          m.working();
        }
        m.ack();
      });
      await consume({ durable: 'slow', filter: Subjects.allEvents, ackWaitMs: 600 }, inbox.handler);
      await inbox.waitFor(1);
      await pause(1800);
      expect(inbox.received.map((m) => m.deliveryCount)).toEqual([1]);
    });

    it('shares the messages of one durable between its subscribers, each message to one of them', async () => {
      const slowAck = async (m: { ack(): void }) => {
        await pause(5);
        m.ack();
      };
      const a = new Inbox(slowAck);
      const b = new Inbox(slowAck);
      await consume({ durable: 'shared', filter: Subjects.allEvents }, a.handler);
      await consume({ durable: 'shared', filter: Subjects.allEvents }, b.handler);
      await Promise.all(Array.from({ length: 40 }, (_, i) => backend.bus.publish(event('t'), text(`m${i}`))));
      await eventually(() => a.received.length + b.received.length >= 40, '40 deliveries across both subscribers');
      await pause(200);
      const all = [...a.texts, ...b.texts].sort();
      expect(all).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
      expect(a.received.length).toBeGreaterThan(0);
      expect(b.received.length).toBeGreaterThan(0);
    });

    it('runs at most maxInFlight handlers at once per subscriber', async () => {
      let running = 0;
      let peak = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const inbox = new Inbox(async (m) => {
        running++;
        peak = Math.max(peak, running);
        await gate;
        running--;
        m.ack();
      });
      await Promise.all(Array.from({ length: 10 }, (_, i) => backend.bus.publish(event('t'), text(`m${i}`))));
      await consume({ durable: 'bounded', filter: Subjects.allEvents, maxInFlight: 3 }, inbox.handler);
      await eventually(() => running === 3, 'three handlers running');
      await pause(200);
      expect(peak).toBe(3);
      release();
      await inbox.waitFor(10);
      expect(peak).toBe(3);
    });

    it('stores a message republished with the same msgId once, and says it was a duplicate', async () => {
      const first = await backend.bus.publish(event('t'), text('once'), { msgId: 'evt-1' });
      const again = await backend.bus.publish(event('t'), text('once'), { msgId: 'evt-1' });
      const other = await backend.bus.publish(event('t'), text('other'), { msgId: 'evt-2' });
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ stream: first.stream, seq: first.seq, duplicate: true });
      expect(other.duplicate).toBe(false);
      await backend.bus.publish(event('t'), text('end'));

      const inbox = new Inbox();
      await consume({ durable: 'dedup', filter: Subjects.allEvents }, inbox.handler);
      await inbox.waitFor(3);
      expect(inbox.texts).toEqual(['once', 'other', 'end']);
      expect(inbox.received[0]!.headers['Nats-Msg-Id']).toBe('evt-1');
    });

    it('removes an acked invocation from the work queue, and keeps acked events', async () => {
      const invocation = Subjects.invocation('guest', 'hello');
      await backend.bus.publish(invocation, text('run-1'));
      await backend.bus.publish(invocation, text('run-2'));
      await backend.bus.publish(event('t'), text('e'));
      expect((await backend.streamInfo(Streams.invocations.name)).messages).toBe(2);

      const invocations = new Inbox((m) => (Buffer.from(m.data).toString() === 'run-1' ? m.ack() : undefined));
      await consume({ durable: 'invoker', filter: Subjects.allInvocations, ackWaitMs: 60_000 }, invocations.handler);
      const events = new Inbox();
      await consume({ durable: 'rules', filter: Subjects.allEvents }, events.handler);
      await invocations.waitFor(2);
      await events.waitFor(1);
      await eventually(async () => (await backend.streamInfo(Streams.invocations.name)).messages === 1, 'the acked invocation to leave the work queue');
      expect((await backend.streamInfo(Streams.events.name)).messages).toBe(1);
    });

    it('refuses a second consumer on an overlapping filter of the work queue', async () => {
      await consume({ durable: 'invoker-a', filter: Subjects.allInvocations }, new Inbox().handler);
      await expect(backend.bus.consume({ durable: 'invoker-b', filter: Subjects.invocation('guest', 'x') }, new Inbox().handler)).rejects.toMatchObject({ code: 'KND_CONFLICT' });
    });

    it('routes names with dots, spaces and wildcard characters to their own subject only', async () => {
      const names = ['a.b', 'x y', 'a>b', 'a*'];
      for (const name of names) await backend.bus.publish(event(name), text(name));
      expect(event('a.b')).toBe(`kindling.events.guest.${encodeToken('a.b')}`);
      const inbox = new Inbox();
      await consume({ durable: 'one-trigger', filter: event('a.b') }, inbox.handler);
      const wide = new Inbox();
      await consume({ durable: 'guest-triggers', filter: `kindling.events.${encodeToken('guest')}.*` }, wide.handler);
      await wide.waitFor(4);
      await inbox.waitFor(1);
      await pause(100);
      expect(inbox.texts).toEqual(['a.b']);
      expect(wide.texts).toEqual(names);
      expect(wide.received.map((m) => m.subject)).toEqual(names.map(event));
    });

    it('tells listeners of a notification, without storing it', async () => {
      const heard: Array<[string, string]> = [];
      const listener = backend.bus.listen('kindling.done.guest.*', (data, subject) => heard.push([subject, Buffer.from(data).toString()]));
      // Core NATS subscriptions are set up asynchronously: notify until one is heard.
      await eventually(() => {
        backend.bus.notify(Subjects.activationDone('guest', 'abc'), text('finished'));
        return heard.length > 0;
      }, 'the notification');
      expect(heard[0]).toEqual([Subjects.activationDone('guest', 'abc'), 'finished']);
      listener.stop();
    });
  });
}
