import { describeProviderConformance } from '@kindling/provider-testkit';
import { alarmsProvider } from './alarms-provider.js';

/**
 * The alarms provider against the conformance kit. Its source is time: an event is the next
 * slot of a cron schedule every ten seconds, produced by moving the kit's fake clock to it; the
 * event carries that slot as its `time`, which is the token the kit looks for.
 */
const SLOT_MS = 10_000;

describeProviderConformance({
  provider: alarmsProvider,
  kind: 'alarm',
  params: { cron: '*/10 * * * * *', trigger_payload: { job: 'report' } },
  source: {
    async emit({ clock }) {
      const slot = (Math.floor(clock.now() / SLOT_MS) + 1) * SLOT_MS;
      await clock.advanceTo(slot);
      return new Date(slot).toISOString();
    },
  },
});
