import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { randomId } from '@kindling/core';
import type { ProviderDefinition } from '@kindling/sdk';
import { assertConformance, runConformance } from './run-conformance.js';
import { ConformanceError, type ConformanceReport } from './conformance-report.js';
import type { ConformanceOptions, ConformanceSource } from './conformance-options.js';
import type { RuleId } from './rules.js';
import { MemorySource } from './test-providers/memory-source.js';
import * as providers from './test-providers/providers.js';

/**
 * The kit against providers that keep every rule, and against one deliberately broken provider
 * per rule: each must be caught, with a message that names the rule.
 */
const SECRET = 'tok-5ecret-value-9f2';

function optionsFor(provider: ProviderDefinition, extra: Partial<ConformanceOptions> & { sourceOptions?: Partial<ConformanceSource>; params?: Record<string, unknown> } = {}): ConformanceOptions {
  const name = `mem-${randomId(4)}`;
  const source = MemorySource.create(name);
  const { sourceOptions, params, ...rest } = extra;
  return {
    provider,
    kind: 'items',
    params: { source: name, token: SECRET, ...params },
    source: source.adapter(sourceOptions),
    eventTimeoutMs: 3000,
    stopDeadlineMs: 500,
    quietMs: 100,
    leakGraceMs: 200,
    ...rest,
  };
}

const failedRules = (report: ConformanceReport): RuleId[] => report.rules.filter((r) => r.verdict === 'failed').map((r) => r.rule);

afterAll(() => providers.cleanUpLeaks());

describe('a provider that keeps every rule', () => {
  it('passes every scenario of the kit over a polling source, judging every rule', async () => {
    const report = await assertConformance(optionsFor(providers.correctPolling));
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.rules.filter((r) => r.verdict !== 'passed')).toEqual([]);
    expect(report.scenarios.map((s) => s.name)).toEqual(['lifecycle', 'restart', 'cursor-fault', 'publish-fault', 'stop-during-publish']);
  });

  it('passes over a subscription that cannot replay, with the rules it cannot exercise reported as not judged', async () => {
    const report = await runConformance(
      optionsFor(providers.correctSubscription, { sourceOptions: { replaysWhileStopped: false, delivery: 'at-most-once' } }),
    );
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rules.find((r) => r.rule === 'KIT_LOSES_EVENT')).toMatchObject({ verdict: 'not-judged', notes: [expect.stringContaining('at most once')] });
  });
});

describe('a provider that breaks a rule', () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    providers.cleanUpLeaks();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const cases: Array<[RuleId, () => ConformanceOptions, RegExp]> = [
    ['KIT_DOES_NOT_FIRE', () => optionsFor(providers.neverFires, { rules: ['KIT_DOES_NOT_FIRE'] }), /never called ctx\.fire/],
    ['KIT_FIRES_WHILE_PAUSED', () => optionsFor(providers.ignoresStop, { rules: ['KIT_FIRES_WHILE_PAUSED'] }), /while the feed was paused, after stop\(\) had returned/],
    ['KIT_FIRES_AFTER_DELETE', () => optionsFor(providers.forgetsResumedFeed, { rules: ['KIT_FIRES_AFTER_DELETE'] }), /after the feed was deleted/],
    ['KIT_LOSES_CURSOR', () => optionsFor(providers.memoryOnlyCursor, { rules: ['KIT_LOSES_CURSOR'] }), /fired event '.+' again .* it did not resume from ctx\.cursor/],
    ['KIT_FIRES_TWICE', () => optionsFor(providers.randomIds, { rules: ['KIT_FIRES_TWICE'] }), /was stored 2 times/],
    ['KIT_LEAKS_TIMER', () => optionsFor(providers.leaksTimer, { rules: ['KIT_LEAKS_TIMER'] }), /a timer \(setTimeout\/setInterval, AbortSignal\.timeout\) the provider created is still active 200 ms after[\s\S]*providers\.ts/],
    ['KIT_LEAKS_HANDLE', () => optionsFor(providers.leaksSocket, { rules: ['KIT_LEAKS_HANDLE'], params: { port } }), /a socket \(TCPWRAP\) the provider opened is still open 200 ms after the feed was deleted/],
    ['KIT_LOGS_SECRET', () => optionsFor(providers.logsSecret, { rules: ['KIT_LOGS_SECRET'] }), /secret parameter 'token' appears in \d+ log line/],
    ['KIT_THROWS_OUT_OF_HANDLER', () => optionsFor(providers.throwsFromListener, { rules: ['KIT_THROWS_OUT_OF_HANDLER', 'KIT_LOSES_EVENT'] }), /an unhandled rejection escaped from the provider: publish failed/],
    ['KIT_IGNORES_ABORT', () => optionsFor(providers.ignoresAbort, { rules: ['KIT_IGNORES_ABORT'] }), /stop\(\) of the feed .* over the 500 ms deadline/],
    ['KIT_LOSES_EVENT', () => optionsFor(providers.acksBeforeDurable, { rules: ['KIT_LOSES_EVENT'] }), /the publish of event '.+' failed and the event never fired afterwards/],
  ];

  it.each(cases)('%s is caught, with a message naming the rule', async (rule, options, detail) => {
    const error = await assertConformance(options()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConformanceError);
    const report = (error as ConformanceError).report;
    expect(failedRules(report)).toContain(rule);
    expect((error as Error).message).toContain(`✗ ${rule}: `);
    const messages = report.findings.filter((f) => f.rule === rule).map((f) => f.message).join('\n');
    expect(messages).toMatch(detail);
  });

  it('catches a timer left on ctx.clock', async () => {
    const report = await runConformance(optionsFor(providers.leaksClockTimer, { rules: ['KIT_LEAKS_TIMER'] }));
    expect(failedRules(report)).toEqual(['KIT_LEAKS_TIMER']);
    expect(report.findings[0]?.message).toMatch(/a timer set on ctx\.clock \(due at .*\) is still pending/);
  });

  it('finds a broken rule among all of them when the whole kit runs', async () => {
    const report = await runConformance(optionsFor(providers.randomIds));
    expect(failedRules(report)).toEqual(['KIT_FIRES_TWICE']);
  });
});

describe('options', () => {
  it('refuses params the kind does not accept, naming the field', async () => {
    await expect(runConformance(optionsFor(providers.correctPolling, { params: { intervalMs: 'soon' } }))).rejects.toThrow(/options\.params .*'intervalMs'/);
  });

  it('refuses a kind the provider does not have', async () => {
    await expect(runConformance({ ...optionsFor(providers.correctPolling), kind: 'nope' })).rejects.toThrow("provider 'correct-polling' has no feed kind 'nope'; it has: items");
  });

  it('refuses a source without emit', async () => {
    await expect(runConformance({ ...optionsFor(providers.correctPolling), source: {} as ConformanceSource })).rejects.toThrow(/'options\.source\.emit'/);
  });
});
