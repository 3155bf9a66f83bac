import { ScenarioHalt } from '../conformance-harness.js';
import type { Scenario } from './scenario.js';

const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A publish hangs; the feed is paused meanwhile; the bus then gives up on the publish. Stop must
 * still return within the deadline, the refused fire must not escape as an unhandled rejection,
 * and nothing may fire once stop has returned.
 */
export const stopDuringPublishScenario: Scenario = {
  name: 'stop-during-publish',
  title: 'pause while a publish hangs',
  judges: ['KIT_IGNORES_ABORT'],
  async run(h, verdicts, options) {
    await h.startHost();
    await h.createFeed();
    await h.waitActive('CREATE');
    const hung = h.bus.hangNextPublish(h.newEventFilter());
    let caught = false;
    void hung.caught.then(() => (caught = true));
    const token = await h.emit();
    if (!(await h.drive(() => caught))) {
      hung.release();
      throw new ScenarioHalt('KIT_DOES_NOT_FIRE', `while active: the source produced event '${token}' and the provider never published it within ${options.eventTimeoutMs} ms`);
    }
    await h.pause();
    // The host calls stop once it has aborted the feed; the bus gives up on the publish just after.
    const stopCalled = () => h.observer.instances.some((instance) => instance.stopCalledAt !== undefined);
    const deadline = Date.now() + options.stopDeadlineMs;
    while (!stopCalled() && Date.now() < deadline) await realDelay(5);
    await realDelay(20);
    hung.release(new Error('publish timed out: no acknowledgement from the event bus (a fault injected by the conformance kit)'));
    await h.waitStatus('paused', 'KIT_IGNORES_ABORT', 'PAUSE while a publish hung');
    verdicts.judge('KIT_IGNORES_ABORT');
    await h.quiet();
    await h.resume();
    await h.waitActive('UNPAUSE');
  },
};
