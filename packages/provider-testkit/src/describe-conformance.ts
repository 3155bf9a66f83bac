import type { ConformanceOptions } from './conformance-options.js';
import { quoted, type ConformanceReport } from './conformance-report.js';
import { RULE_IDS, RULES } from './rules.js';
import { runConformance } from './run-conformance.js';

type Body = () => void | Promise<void>;

/** The parts of a Jest-like test API the kit registers its tests with. */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body, timeoutMs?: number): void;
  beforeAll(body: Body, timeoutMs?: number): void;
}

function globalTestApi(): TestApi {
  const api = globalThis as unknown as Partial<TestApi>;
  if (typeof api.describe !== 'function' || typeof api.it !== 'function' || typeof api.beforeAll !== 'function') {
    throw new Error('describeProviderConformance registers Jest tests: call it from a test file (or pass { describe, it, beforeAll } as its second argument)');
  }
  return api as TestApi;
}

/**
 * Registers the conformance kit as tests: one run of the kit before all, then one test per rule
 * (`KIT_FIRES_AFTER_DELETE: does not fire after the feed is deleted`), failing with the rule's
 * findings. A rule no scenario could exercise passes here, and is listed on the console with the reason.
 */
export function describeProviderConformance(options: ConformanceOptions, testApi: TestApi = globalTestApi()): void {
  const rules = options.rules ?? RULE_IDS;
  // The kit's scenarios each wait at most for an event, a stop and the leak grace; this bounds the whole run.
  const timeoutMs = 5 * ((options.eventTimeoutMs ?? 10_000) * 3 + (options.stopDeadlineMs ?? 5000) * 2 + (options.leakGraceMs ?? 5000)) + 30_000;
  testApi.describe(`${options.provider.name}/${options.kind} conformance`, () => {
    let report: ConformanceReport | undefined;
    let failure: unknown;
    testApi.beforeAll(async () => {
      try {
        report = await runConformance(options);
      } catch (error) {
        failure = error;
      }
      const unjudged = report?.rules.filter((r) => r.verdict === 'not-judged') ?? [];
      if (unjudged.length > 0) {
        console.info(`conformance kit, ${options.provider.name}/${options.kind}: not judged: ${unjudged.map((r) => `${r.rule} (${r.notes.join('; ')})`).join(', ')}`);
      }
    }, timeoutMs);
    for (const rule of rules) {
      testApi.it(`${rule}: ${RULES[rule].title}`, () => {
        if (failure) throw failure;
        const verdict = report?.rules.find((r) => r.rule === rule);
        if (verdict?.verdict !== 'failed') return;
        const findings = report?.findings.filter((f) => f.rule === rule) ?? [];
        throw new Error(`${rule}: ${RULES[rule].title}\n${findings.map((f) => `- in ${quoted(f.scenarios)}: ${f.message}`).join('\n')}\nfix: ${RULES[rule].fix}`);
      });
    }
  });
}
