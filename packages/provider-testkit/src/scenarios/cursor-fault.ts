import { expectFired, expectStoredOnce, type Scenario } from './scenario.js';

/**
 * The first cursor write after an event fired fails: the feed reports the failure, the host
 * restarts it from its previous cursor, and the source's event comes round again. With a
 * deterministic id, the bus absorbs the repeat; the trigger fires once. A source that can
 * redeliver an event is also asked to.
 */
export const cursorFaultScenario: Scenario = {
  name: 'cursor-fault',
  title: 'a cursor write fails after a fire; the source delivers the event again',
  judges: ['KIT_FIRES_TWICE'],
  async run(h, verdicts, options) {
    await h.startHost();
    await h.createFeed();
    await h.waitActive('CREATE');
    const isNew = h.newEventFilter();
    h.store.failNextCursorWrite(() => h.bus.publishes.some((p) => p.outcome === 'stored' && isNew(p.event)));
    const token = await h.emit();
    await expectFired(h, token, 'while active', options);
    // A provider stores its cursor right after the fire, or on its next timer: give it both.
    await h.quiesce();
    if (h.store.failedCursorWrites === 0) await h.quiet(2);
    if (h.store.failedCursorWrites > 0) {
      // Until the feed has stored a cursor again: it has come round and fired (or absorbed) the event.
      await h.drive(() => h.store.cursorWrites > h.store.lastFailedWrite);
      await h.quiet();
      expectStoredOnce(h, verdicts, this.title, token, 'delivered again after a failed cursor write');
    } else {
      verdicts.note('KIT_FIRES_TWICE', 'the feed stored no cursor after firing, so a failed cursor write could not make its event come round again');
    }
    if (await h.redeliver(token)) {
      await h.quiet();
      expectStoredOnce(h, verdicts, this.title, token, 'redelivered by the source');
    } else {
      verdicts.note('KIT_FIRES_TWICE', 'the source adapter has no redeliver()');
    }
  },
};
