import { KindlingError, messageOf, silentLogger } from '@kindling/core';
import { ProviderRegistry } from '@kindling/host';
import { ConformanceHarness, ScenarioHalt, type RunContext } from './conformance-harness.js';
import { resolveOptions, type ConformanceOptions, type ResolvedOptions } from './conformance-options.js';
import { ConformanceError, type ConformanceReport } from './conformance-report.js';
import { ErrorTrap } from './error-trap.js';
import { settle } from './fake-clock.js';
import { LogCapture } from './log-capture.js';
import { ResourceTracker } from './resource-tracker.js';
import { RULE_IDS } from './rules.js';
import { checkOpenAfterStop, checkScenario, type OpenAfterStop, type SecretParam } from './scenario-checks.js';
import { scenariosFor } from './scenarios/index.js';
import { Verdicts } from './verdicts.js';

/**
 * Runs the provider's feed kind through every scenario of the kit (lifecycle, restart, a failed
 * cursor write, a failed publish, a stop during a hung publish), each on a real FeedHost over the
 * in-memory embedded backend with a fake clock, and returns what it found. Never throws for a
 * broken rule; throws for bad options or a source adapter that fails.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const resolved = resolveOptions(options);
  const started = Date.now();
  const tracker = new ResourceTracker();
  const trap = new ErrorTrap();
  const logs = new LogCapture();
  const verdicts = new Verdicts();
  const scenarios: ConformanceReport['scenarios'] = [];
  const openAfterStop: OpenAfterStop[] = [];
  tracker.start();
  trap.arm();
  logs.captureConsole();
  try {
    const params = await validatedParams(resolved, tracker);
    const run: RunContext = { options: resolved, params, tracker, logs, tokens: [] };
    const secrets = secretParams(resolved, params);
    for (const scenario of scenariosFor(resolved.rules)) {
      const scenarioStart = Date.now();
      const errorsBefore = trap.caught.length;
      const linesBefore = logs.lines.length;
      const h = await ConformanceHarness.open(run, scenario.name);
      try {
        await scenario.run(h, verdicts, resolved);
      } catch (error) {
        if (!(error instanceof ScenarioHalt)) {
          await h.finish().catch(() => undefined);
          throw error;
        }
        verdicts.fail(error.rule, scenario.title, error.message);
      }
      const leftovers = await h.finish();
      openAfterStop.push({ scenario: scenario.title, resources: leftovers.resources, stoppedAt: Date.now() });
      await settle();
      checkScenario(
        { scenario: scenario.title, h, leftovers, errors: trap.caught.slice(errorsBefore), logLines: logs.lines.slice(linesBefore), secrets },
        verdicts,
        resolved,
      );
      scenarios.push({ name: scenario.name, title: scenario.title, durationMs: Date.now() - scenarioStart });
    }
    await checkOpenAfterStop(openAfterStop, tracker, verdicts, resolved);
  } finally {
    logs.releaseConsole();
    trap.disarm();
    tracker.stop();
  }
  const rules = verdicts.verdicts(resolved.rules ?? RULE_IDS);
  return {
    provider: resolved.provider.name,
    kind: resolved.kind,
    ok: rules.every((rule) => rule.verdict !== 'failed'),
    findings: verdicts.findings.filter((finding) => rules.some((rule) => rule.rule === finding.rule)),
    rules,
    scenarios,
    durationMs: Date.now() - started,
  };
}

/** Runs the kit and throws a `ConformanceError` naming every broken rule; returns the report when none is. */
export async function assertConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const report = await runConformance(options);
  if (!report.ok) throw new ConformanceError(report);
  return report;
}

/** The params as CREATE would store them: the kind's schema and its own checks, as the API runs them. */
async function validatedParams(options: ResolvedOptions, tracker: ResourceTracker): Promise<Record<string, unknown>> {
  const registry = new ProviderRegistry([options.provider]);
  const abort = new AbortController();
  const params = typeof options.params === 'function' ? await options.params() : options.params;
  try {
    return await tracker.run('validate', () => registry.validateParams(options.provider.name, options.kind, params, { log: silentLogger(), signal: abort.signal }));
  } catch (error) {
    const field = error instanceof KindlingError && error.field ? `options.params.${error.field}` : 'options.params';
    throw new KindlingError('KND_BAD_FEED_PARAMS', `options.params are not valid for ${options.provider.name}/${options.kind}: ${messageOf(error)}`, { field, cause: error });
  } finally {
    abort.abort();
  }
}

/** The declared secrets that have a value worth looking for (the platform scrubs 4 characters and up). */
function secretParams(options: ResolvedOptions, params: Record<string, unknown>): SecretParam[] {
  const declared = options.provider.kinds[options.kind]?.secrets ?? [];
  return declared.flatMap((name) => {
    const value = params[name];
    const text = typeof value === 'string' ? value : value && typeof value === 'object' ? JSON.stringify(value) : undefined;
    return text && text.length >= 4 ? [{ name, value: text }] : [];
  });
}
