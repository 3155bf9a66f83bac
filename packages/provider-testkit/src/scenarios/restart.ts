import { expectFired, type Scenario } from './scenario.js';

/**
 * An event fires; the provider host stops (a deploy, a restart) and a new one takes over on the
 * same store. The feed must go on from its stored cursor: what it fired before is not fired
 * again, and what the source produced meanwhile fires.
 */
export const restartScenario: Scenario = {
  name: 'restart',
  title: 'restart of the provider host',
  judges: ['KIT_LOSES_CURSOR'],
  async run(h, verdicts, options) {
    await h.startHost();
    await h.createFeed();
    await h.waitActive('CREATE');
    const before = await h.emit();
    await expectFired(h, before, 'before the restart', options);
    await h.quiesce();
    const firesBefore = h.observer.fires.length;

    await h.stopHost();
    const replays = options.source.replaysWhileStopped;
    const meanwhile = replays ? await h.emit() : undefined;
    await h.startHost();
    await h.waitActive('after the restart');
    const after = meanwhile ?? (await h.emit());
    verdicts.judge('KIT_LOSES_CURSOR');
    const fired = await h.drive(() => h.stored(after).length > 0);
    if (!fired && replays) {
      verdicts.fail(
        'KIT_LOSES_CURSOR',
        this.title,
        `event '${after}', produced at the source while no host ran the feed, never fired after the restart (within ${options.eventTimeoutMs} ms): the feed started over instead of resuming from its stored cursor. If the source cannot keep events for a stopped feed, say so with replaysWhileStopped: false.`,
      );
    } else if (!fired) {
      await expectFired(h, after, 'after the restart', options);
    }
    await h.quiet();
    const again = h.attempts(before, firesBefore);
    if (again.length > 0) {
      verdicts.fail(
        'KIT_LOSES_CURSOR',
        this.title,
        `after the restart the feed fired event '${before}' again (${again.length} time(s)), though it had fired it and stored its cursor before: it did not resume from ctx.cursor.`,
      );
    }
  },
};
