import type { ResolvedOptions } from './conformance-options.js';
import type { ConformanceHarness, Leftovers } from './conformance-harness.js';
import type { TrappedError } from './error-trap.js';
import type { LiveResource, ResourceTracker } from './resource-tracker.js';
import type { RuleId } from './rules.js';
import type { Verdicts } from './verdicts.js';

export interface SecretParam {
  name: string;
  value: string;
}

export interface ScenarioEvidence {
  scenario: string;
  h: ConformanceHarness;
  leftovers: Leftovers;
  /** What escaped provider code during the scenario. */
  errors: TrappedError[];
  /** Log and console lines written during the scenario. */
  logLines: string[];
  secrets: SecretParam[];
}

/** Frames of Node's internals and of the kit's own machinery (its test providers are provider code). */
const KIT_OR_NODE_FRAME = /node:internal|node:async_hooks|node:timers|provider-testkit[\\/](src|dist)[\\/](?!test-providers)/;

/** Frames of a stack that point at the provider's code, not at Node's internals or the kit; empty when there is none. */
export function providerFrames(stack: string | undefined, max = 4): string {
  const frames = (stack ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at ') && !KIT_OR_NODE_FRAME.test(line));
  return frames.slice(0, max).map((frame) => `\n      ${frame}`).join('');
}

/** The checks every scenario makes, whatever it played: what escaped, what leaked, what was logged, how stops went. */
export function checkScenario(evidence: ScenarioEvidence, verdicts: Verdicts, options: ResolvedOptions): void {
  checkEscapes(evidence, verdicts);
  checkLeaks(evidence, verdicts);
  checkSecrets(evidence, verdicts);
  checkStops(evidence, verdicts, options);
  checkFiresAfterStop(evidence, verdicts);
}

function checkEscapes({ scenario, errors }: ScenarioEvidence, verdicts: Verdicts): void {
  verdicts.judge('KIT_THROWS_OUT_OF_HANDLER');
  const seen = new Set<string>();
  for (const error of errors) {
    const key = `${error.kind}:${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    verdicts.fail(
      'KIT_THROWS_OUT_OF_HANDLER',
      scenario,
      `an ${error.kind} escaped from the provider: ${error.message}${where('at', error.stack)}\n    Catch it in the callback or listener, and report it with ctx.fail(error) (the host restarts the feed with backoff) or ctx.degraded(reason).`,
    );
  }
}

function checkLeaks({ scenario, leftovers }: ScenarioEvidence, verdicts: Verdicts): void {
  verdicts.judge('KIT_LEAKS_TIMER');
  verdicts.judge('KIT_LEAKS_HANDLE');
  for (const timer of dedupe(leftovers.fakeTimers, (t) => t.createdAt)) {
    verdicts.fail(
      'KIT_LEAKS_TIMER',
      scenario,
      `a timer set on ctx.clock (due at ${new Date(timer.at).toISOString()}) is still pending after the feed was stopped${where('set', timer.createdAt)}\n    Clear it in stop(), or use sleep(ctx.clock, ms, ctx.signal), which the abort clears.`,
    );
  }
}

/** Real timers and handles of a scenario's feed, still open when its host had stopped. */
export interface OpenAfterStop {
  scenario: string;
  resources: LiveResource[];
  /** Real time the scenario's host stopped. */
  stoppedAt: number;
}

/**
 * Judged at the end of the run, so that a handle gets `leakGraceMs` after its feed stopped to
 * close by itself (an idle keep-alive socket, a short timeout) while later scenarios run: what is
 * still open then is leaked.
 */
export async function checkOpenAfterStop(open: OpenAfterStop[], tracker: ResourceTracker, verdicts: Verdicts, options: ResolvedOptions): Promise<void> {
  const stillOpen = () => open.flatMap((entry) => entry.resources.filter((r) => tracker.isLive(r.asyncId)).map((resource) => ({ entry, resource })));
  const graceEnds = Math.max(0, ...open.map((entry) => entry.stoppedAt + options.leakGraceMs));
  while (stillOpen().length > 0 && Date.now() < graceEnds) await new Promise((resolve) => setTimeout(resolve, 25));
  const seen = new Set<string>();
  for (const { entry, resource } of stillOpen()) {
    const key = `${entry.scenario}:${resource.type}:${resource.createdAt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const timer = resource.type === 'Timeout';
    const after = `${options.leakGraceMs} ms after the feed was deleted and its host stopped`;
    verdicts.fail(
      timer ? 'KIT_LEAKS_TIMER' : 'KIT_LEAKS_HANDLE',
      entry.scenario,
      timer
        ? `a timer (setTimeout/setInterval, AbortSignal.timeout) the provider created is still active ${after}${where('created', resource.createdAt)}\n    Clear it in stop() (a timeout of your own, cleared when the call ends, rather than AbortSignal.timeout).`
        : `a ${describeHandle(resource.type)} the provider opened is still open ${after}${where('opened', resource.createdAt)}\n    Close it in stop(), or acquire it through ctx.resources with a dispose function.`,
    );
  }
}

/** `; <verb> at:` and the provider's frames, or nothing when the stack has none of them. */
function where(verb: string, stack: string | undefined): string {
  const frames = providerFrames(stack);
  return frames ? `; ${verb === 'at' ? 'at' : `${verb} at`}:${frames}` : '';
}

function describeHandle(type: string): string {
  if (type === 'TCPWRAP' || type === 'TLSWRAP') return `socket (${type})`;
  if (type === 'TCPSERVERWRAP' || type === 'PIPESERVERWRAP') return `server (${type})`;
  if (type === 'UDPWRAP') return 'UDP socket (UDPWRAP)';
  if (type === 'PIPEWRAP') return 'pipe (PIPEWRAP)';
  return `handle (${type})`;
}

function checkSecrets({ scenario, logLines, secrets }: ScenarioEvidence, verdicts: Verdicts): void {
  if (secrets.length === 0) {
    verdicts.note('KIT_LOGS_SECRET', 'the kind declares no secret parameter with a value of 4 or more characters in the given params');
    return;
  }
  verdicts.judge('KIT_LOGS_SECRET');
  for (const secret of secrets) {
    const lines = logLines.filter((line) => line.includes(secret.value));
    if (lines.length === 0) continue;
    const example = (lines[0] as string).split(secret.value).join(`<value of ${secret.name}>`).slice(0, 400);
    verdicts.fail(
      'KIT_LOGS_SECRET',
      scenario,
      `the value of the secret parameter '${secret.name}' appears in ${lines.length} log line(s), such as: ${example}\n    Log parameters by name, never by value; scrub driver messages that quote credentials with scrubSecrets from @kindling/core.`,
    );
  }
}

function checkStops({ scenario, h }: ScenarioEvidence, verdicts: Verdicts, options: ResolvedOptions): void {
  const now = Date.now();
  for (const instance of h.observer.instances) {
    if (instance.stopCalledAt === undefined) continue;
    verdicts.judge('KIT_IGNORES_ABORT');
    const took = (instance.stopEndedAt ?? now) - instance.stopCalledAt;
    if (took <= options.stopDeadlineMs) continue;
    const how = instance.stopEndedAt === undefined ? `did not return (waited ${took} ms)` : `took ${took} ms`;
    verdicts.fail(
      'KIT_IGNORES_ABORT',
      scenario,
      `stop() of the feed (generation ${instance.generation}) ${how}, over the ${options.stopDeadlineMs} ms deadline: something in it waits on work that ignores ctx.signal. End loops when the signal aborts and pass it to every wait (sleep(ctx.clock, ms, ctx.signal), fetch(url, { signal })).`,
    );
  }
}

function checkFiresAfterStop({ scenario, h }: ScenarioEvidence, verdicts: Verdicts): void {
  const late = h.observer.fires.filter((fire) => fire.afterStop);
  const byRule = new Map<RuleId, number>();
  for (const fire of late) {
    const rule: RuleId = fire.phase === 'paused' ? 'KIT_FIRES_WHILE_PAUSED' : fire.phase === 'deleted' ? 'KIT_FIRES_AFTER_DELETE' : 'KIT_IGNORES_ABORT';
    byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
  }
  const when: Record<string, string> = {
    KIT_FIRES_WHILE_PAUSED: 'while the feed was paused',
    KIT_FIRES_AFTER_DELETE: 'after the feed was deleted',
    KIT_IGNORES_ABORT: 'while the feed was stopped',
  };
  for (const [rule, count] of byRule) {
    verdicts.fail(
      rule,
      scenario,
      `the provider called ctx.fire ${count} time(s) ${when[rule]}, after stop() had returned: a timer, loop or subscription of the stopped feed lives on. (The host refused these fires; a provider must not rely on it.) Stop everything in stop(), and check ctx.signal.aborted before firing.`,
    );
  }
}

function dedupe<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
