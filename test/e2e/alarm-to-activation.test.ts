import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActivationRecord } from '@kindling/core';
import { openwhiskClient, type OpenWhiskClient, describeWithNats, eventually } from '@kindling/test-support';
import { PlatformFixture, PLATFORM_WAIT, sleep, type BackendKind } from './platform-support.js';

/**
 * The whole flow as a user drives it with the real `openwhisk` npm client: an interval alarm
 * fires a trigger every second, a rule runs an action, activations arrive with its result;
 * pause, resume and delete act on the fires; a restart loses nothing and fires nothing twice.
 */
const describeNats = await describeWithNats();

const HELLO = `function main(params) { console.log('tick', params.n ?? ''); return { greeting: 'hello ' + params.name, scheduled: params.scheduledTime ?? null }; }`;

for (const backend of ['embedded', 'nats'] as BackendKind[]) {
  const describeBackend = backend === 'nats' ? describeNats : describe;

  describeBackend(`alarm → rule → action, end to end on the ${backend} backend`, () => {
    const fixture = new PlatformFixture(backend);
    let ow: OpenWhiskClient;

    const client = () => openwhiskClient(fixture.platform.apiUrl, fixture.platform.guestAuth);
    const actionActivations = async () => (await ow.activations.list({ name: 'hello', limit: 200, docs: true })) as unknown as ActivationRecord[];
    const triggerActivations = async () => (await ow.activations.list({ name: 'ticks', limit: 200, docs: true })) as unknown as ActivationRecord[];
    const feedControl = async (action: 'pause' | 'unpause') => {
      const response = await fetch(`${fixture.platform.apiUrl}/api/v1/namespaces/_/feeds/ticks`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(fixture.platform.guestAuth).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action }),
      });
      expect(response.status).toBeLessThan(300);
    };

    beforeAll(async () => {
      await fixture.start();
      ow = client();
    });

    afterAll(async () => {
      await fixture.dispose();
    });

    it('runs the action on every fire of an interval alarm, with its result recorded', async () => {
      await ow.actions.create({ name: 'hello', action: HELLO, kind: 'nodejs:20', params: { name: 'kindling' } });
      await ow.triggers.create({ name: 'ticks' });
      await ow.feeds.create({ name: '/whisk.system/alarms/interval', trigger: 'ticks', params: { seconds: 1 } });
      await ow.rules.create({ name: 'ticks-hello', trigger: 'ticks', action: 'hello' });

      const activations = await eventually(async () => {
        const list = await actionActivations();
        return list.length >= 3 && list;
      }, 'three activations of hello', 15_000, PLATFORM_WAIT);
      for (const activation of activations.slice(0, 3)) {
        expect(activation.response).toMatchObject({ status: 'success', success: true, result: { greeting: 'hello kindling' } });
        const logs = await ow.activations.logs({ name: activation.activationId });
        expect(logs.logs.join('\n')).toContain('stdout: tick');
      }
      const result = await ow.activations.result({ name: activations[0]!.activationId });
      expect(result).toMatchObject({ success: true, result: { greeting: 'hello kindling' } });
    });

    it('reads the feed with its status, and pause stops the fires until resume', async () => {
      const feed = await ow.feeds.get({ name: '/whisk.system/alarms/interval', trigger: 'ticks' });
      expect(JSON.stringify(feed.response.result)).toContain('active');

      await feedControl('pause');
      await sleep(1500); // a fire already on the bus may still land
      const before = (await triggerActivations()).length;
      await sleep(2500);
      expect((await triggerActivations()).length).toBe(before);

      await feedControl('unpause');
      await eventually(async () => (await triggerActivations()).length >= before + 2, 'fires after resume', 15_000, PLATFORM_WAIT);
    });

    it('survives a restart: entities kept, the feed resumes, no fire recorded twice', async () => {
      const before = (await triggerActivations()).length;
      await fixture.restart();
      ow = client();
      expect((await ow.actions.get({ name: 'hello' })).name).toBe('hello');
      expect((await ow.rules.get({ name: 'ticks-hello' })).status).toBe('active');
      await eventually(async () => (await triggerActivations()).length >= before + 2, 'fires after the restart', 15_000, PLATFORM_WAIT);

      const fires = await triggerActivations();
      const eventIds = fires.map((a) => a.eventId);
      expect(new Set(eventIds).size).toBe(eventIds.length);
      const runs = await actionActivations();
      const causes = runs.map((a) => a.cause);
      expect(new Set(causes).size).toBe(causes.length);
    });

    it('delete stops the fires for good', async () => {
      await ow.feeds.delete({ name: '/whisk.system/alarms/interval', trigger: 'ticks' });
      await sleep(1500);
      const after = (await triggerActivations()).length;
      await sleep(2500);
      expect((await triggerActivations()).length).toBe(after);
      await expect(ow.feeds.get({ name: '/whisk.system/alarms/interval', trigger: 'ticks' })).rejects.toThrow();
    });

    it('fires a trigger by hand, and invokes blocking and non-blocking', async () => {
      const fired = await ow.triggers.invoke({ name: 'ticks', params: { name: 'by hand' } });
      expect(fired.activationId).toMatch(/^[0-9a-f]{32}$/);
      await eventually(async () => (await actionActivations()).some((a) => (a.response.result as { greeting?: string }).greeting === 'hello by hand'), 'the hand-fired run', 15_000, PLATFORM_WAIT);

      const blocking = await ow.actions.invoke({ name: 'hello', params: { name: 'blocking' }, blocking: true });
      expect(blocking.response?.result).toMatchObject({ greeting: 'hello blocking' });
      const later = await ow.actions.invoke({ name: 'hello', params: { name: 'async' } });
      await eventually(async () => (await ow.activations.get({ name: later.activationId })).response?.success, 'the non-blocking run', 15_000, PLATFORM_WAIT);
    });
  });
}
