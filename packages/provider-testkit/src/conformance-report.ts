import { RULES } from './rules.js';
import type { ConformanceFinding, RuleVerdict } from './verdicts.js';

export interface ConformanceReport {
  provider: string;
  kind: string;
  /** True when no rule was broken. */
  ok: boolean;
  findings: ConformanceFinding[];
  /** Every rule the run was asked about, with its verdict. */
  rules: RuleVerdict[];
  scenarios: Array<{ name: string; title: string; durationMs: number }>;
  durationMs: number;
}

/** The report in words: each broken rule with its findings and the fix, then what passed and what could not be judged. */
export function formatReport(report: ConformanceReport): string {
  const failed = report.rules.filter((r) => r.verdict === 'failed');
  const subject = `provider '${report.provider}', feed kind '${report.kind}'`;
  const lines: string[] = [
    failed.length === 0
      ? `${subject} passes the Kindling provider conformance kit (${report.durationMs} ms)`
      : `${subject} breaks ${failed.length} rule(s) of the Kindling provider conformance kit:`,
  ];
  for (const rule of failed) {
    lines.push('', `✗ ${rule.rule}: ${rule.title}`);
    for (const finding of report.findings.filter((f) => f.rule === rule.rule)) {
      lines.push(`  - in ${quoted(finding.scenarios)}: ${finding.message}`);
    }
    lines.push(`  fix: ${RULES[rule.rule].fix}`);
  }
  const passed = report.rules.filter((r) => r.verdict === 'passed').map((r) => r.rule);
  if (passed.length > 0) lines.push('', `passed: ${passed.join(', ')}`);
  for (const rule of report.rules.filter((r) => r.verdict === 'not-judged')) {
    lines.push(`not judged: ${rule.rule} (${rule.notes.join('; ') || 'no scenario exercised it'})`);
  }
  return lines.join('\n');
}

/** Thrown by `assertConformance` when a rule is broken: its message is the formatted report. */
export class ConformanceError extends Error {
  constructor(readonly report: ConformanceReport) {
    super(formatReport(report));
    this.name = 'ConformanceError';
  }
}

export function quoted(scenarios: string[]): string {
  return scenarios.map((scenario) => `"${scenario}"`).join(', ');
}
