import { RULE_IDS, RULES, type RuleId } from './rules.js';

/** One place where the provider broke a rule. */
export interface ConformanceFinding {
  rule: RuleId;
  /** What the rule asks, in words. */
  title: string;
  /** The scenarios it happened in (one finding for the same fault seen in several). */
  scenarios: string[];
  /** What happened, and what to do about it. */
  message: string;
}

export interface RuleVerdict {
  rule: RuleId;
  title: string;
  /** `not-judged`: no scenario could exercise it (see `notes`). */
  verdict: 'passed' | 'failed' | 'not-judged';
  notes: string[];
}

/** Collects findings, and which rules the run could judge at all. */
export class Verdicts {
  readonly findings: ConformanceFinding[] = [];
  private readonly judged = new Set<RuleId>();
  private readonly notes = new Map<RuleId, string[]>();

  fail(rule: RuleId, scenario: string, message: string): void {
    this.judged.add(rule);
    const same = this.findings.find((finding) => finding.rule === rule && finding.message === message);
    if (!same) this.findings.push({ rule, title: RULES[rule].title, scenarios: [scenario], message });
    else if (!same.scenarios.includes(scenario)) same.scenarios.push(scenario);
  }

  /** The rule was exercised (and passes unless a finding says otherwise). */
  judge(rule: RuleId): void {
    this.judged.add(rule);
  }

  /** Why the rule could not be exercised in some scenario. */
  note(rule: RuleId, text: string): void {
    const notes = this.notes.get(rule) ?? [];
    if (!notes.includes(text)) notes.push(text);
    this.notes.set(rule, notes);
  }

  verdicts(rules: readonly RuleId[] = RULE_IDS): RuleVerdict[] {
    return rules.map((rule) => ({
      rule,
      title: RULES[rule].title,
      verdict: this.findings.some((f) => f.rule === rule) ? 'failed' : this.judged.has(rule) ? 'passed' : 'not-judged',
      notes: this.notes.get(rule) ?? [],
    }));
  }
}
