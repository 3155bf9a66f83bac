import { expectFired, expectStoredOnce, type Scenario } from './scenario.js';

/**
 * CREATE, an event fires; PAUSE, an event at the source fires nothing; UNPAUSE, a new event
 * fires; DELETE, an event fires nothing. Fires after stop are judged by the phase they fall in.
 */
export const lifecycleScenario: Scenario = {
  name: 'lifecycle',
  title: 'create, fire, pause, resume, delete',
  judges: ['KIT_DOES_NOT_FIRE', 'KIT_FIRES_WHILE_PAUSED', 'KIT_FIRES_AFTER_DELETE', 'KIT_FIRES_TWICE'],
  async run(h, verdicts, options) {
    await h.startHost();
    await h.createFeed();
    await h.waitActive('CREATE');
    const first = await h.emit();
    await expectFired(h, first, 'while active', options);
    verdicts.judge('KIT_DOES_NOT_FIRE');
    await h.quiet();
    expectStoredOnce(h, verdicts, this.title, first, 'produced once by the source');

    await h.pause();
    await h.waitStatus('paused', 'KIT_IGNORES_ABORT', 'PAUSE');
    await h.emit();
    await h.quiet();
    verdicts.judge('KIT_FIRES_WHILE_PAUSED');

    await h.resume();
    await h.waitActive('UNPAUSE');
    const afterResume = await h.emit();
    await expectFired(h, afterResume, 'after UNPAUSE', options);

    await h.deleteFeed();
    await h.waitRemoved();
    await h.emit();
    await h.quiet();
    verdicts.judge('KIT_FIRES_AFTER_DELETE');
  },
};
