/**
 * The rules the conformance kit checks. The ids are stable: tests and docs may quote them.
 * Each rule says what a provider must do; a finding says where it did not.
 */
export const RULES = {
  KIT_DOES_NOT_FIRE: {
    title: 'fires the trigger once for each source event while the feed is active',
    fix: 'check that start() subscribes, polls or answers hooks, and that ctx.fire is called and awaited',
  },
  KIT_FIRES_WHILE_PAUSED: {
    title: 'does not fire while the feed is paused',
    fix: 'stop() must stop every timer, loop and subscription of the feed; check ctx.signal.aborted before firing',
  },
  KIT_FIRES_AFTER_DELETE: {
    title: 'does not fire after the feed is deleted',
    fix: 'stop() must stop every timer, loop and subscription of the feed; teardown() removes what it created at the source',
  },
  KIT_LOSES_CURSOR: {
    title: 'resumes from its stored cursor after a restart: nothing fired again, nothing skipped',
    fix: 'keep your position in ctx.cursor (set it after the events it covers are fired), and read it back in start()',
  },
  KIT_FIRES_TWICE: {
    title: 'fires once for one source event, even when the source delivers it again',
    fix: "pass a deterministic id derived from the source's identity: ctx.fire(data, { id })",
  },
  KIT_LEAKS_TIMER: {
    title: 'leaves no timer behind after stop',
    fix: 'clear every timer and interval in stop(); prefer ctx.clock and sleep(ctx.clock, ms, ctx.signal)',
  },
  KIT_LEAKS_HANDLE: {
    title: 'leaves no socket, server or other handle open after stop',
    fix: 'close every connection, server and watcher in stop(), or dispose of it through ctx.resources',
  },
  KIT_LOGS_SECRET: {
    title: 'never logs the value of a secret parameter',
    fix: "log parameters by name, not value; scrub driver messages that quote credentials (core's scrubSecrets)",
  },
  KIT_THROWS_OUT_OF_HANDLER: {
    title: 'reports failures through ctx.fail or its own retries, never as an uncaught exception or unhandled rejection',
    fix: 'catch errors in every callback, event listener and timer; report with ctx.fail(error) or ctx.degraded(reason)',
  },
  KIT_IGNORES_ABORT: {
    title: 'stops within the deadline when asked, and never fires after stop() has returned',
    fix: "honour ctx.signal: pass it to fetch and sleep, end loops when it aborts, and make stop() wait for them",
  },
  KIT_LOSES_EVENT: {
    title: 'fires an event whose publish failed, later: the source is acknowledged only once the event is durable',
    fix: 'await ctx.fire before acknowledging the source or moving the cursor; on failure call ctx.fail so the host restarts the feed',
  },
} as const satisfies Record<string, { title: string; fix: string }>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];
