import { expectFired, type Scenario } from './scenario.js';

/**
 * The publish of an event fails (the bus is down for a moment). The provider must report it
 * (ctx.fail, or retry by itself) without throwing out of a handler, and, for a source that
 * redelivers, fire the event later: nothing accepted is lost.
 */
export const publishFaultScenario: Scenario = {
  name: 'publish-fault',
  title: 'the publish of an event fails once',
  judges: ['KIT_LOSES_EVENT'],
  async run(h, verdicts, options) {
    await h.startHost();
    await h.createFeed();
    await h.waitActive('CREATE');
    const isNew = h.newEventFilter();
    h.bus.failNextPublish(1, isNew);
    const token = await h.emit();
    const failed = await h.drive(() => h.bus.publishes.some((p) => p.outcome === 'failed'));
    if (!failed) {
      await expectFired(h, token, 'while active', options);
      verdicts.note('KIT_LOSES_EVENT', 'no publish was made for the event, so none could fail');
      return;
    }
    if (options.source.delivery === 'at-most-once') {
      verdicts.note('KIT_LOSES_EVENT', 'the source delivers at most once (delivery: at-most-once)');
      await h.quiet();
      return;
    }
    verdicts.judge('KIT_LOSES_EVENT');
    if (!(await h.drive(() => h.stored(token).length > 0))) {
      verdicts.fail(
        'KIT_LOSES_EVENT',
        this.title,
        `the publish of event '${token}' failed and the event never fired afterwards (within ${options.eventTimeoutMs} ms): the provider acknowledged the source or moved its cursor before the event was durable, or dropped it. Await ctx.fire before acknowledging, and report the failure with ctx.fail so the host restarts the feed. If the source cannot redeliver, say so with delivery: 'at-most-once'.`,
      );
    }
  },
};
