/**
 * MQTT topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7–4.8): validation, matching, and shared
 * subscriptions (`$share/<group>/<filter>`).
 */

const MAX_TOPIC_BYTES = 65_535;
const SHARE_PREFIX = '$share/';

/** What a topic filter is wrong about, or undefined when it is a legal filter. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'must not be empty';
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `must be at most ${MAX_TOPIC_BYTES} bytes`;
  if (filter.includes('\u0000')) return 'must not contain the NUL character';
  const levels = filter.split('/');
  for (const [index, level] of levels.entries()) {
    if (level.includes('#') && level !== '#') return `has '${level}': '#' must be a whole level, as in 'sensors/#'`;
    if (level === '#' && index !== levels.length - 1) return "has '#' before the last level: '#' must be the last level, as in 'sensors/#'";
    if (level.includes('+') && level !== '+') return `has '${level}': '+' must be a whole level, as in 'sensors/+/temperature'`;
  }
  return undefined;
}

/** What a shared-subscription group name is wrong about, or undefined when it is legal. */
export function shareGroupProblem(group: string): string | undefined {
  if (group.length === 0) return 'must not be empty';
  if (/[/+#]/.test(group)) return "must not contain '/', '+' or '#'";
  return undefined;
}

export interface ParsedSubscription {
  /** The filter topics are matched against (without any `$share/<group>/` prefix). */
  filter: string;
  /** The shared-subscription group, when several subscribers split the messages. */
  group?: string;
  /** What is sent in SUBSCRIBE: the filter, or `$share/<group>/<filter>`. */
  subscribeTopic: string;
}

/**
 * Parses a filter as written in a feed's `topic` (`sensors/+/temp` or `$share/g/sensors/+/temp`),
 * applying `defaultGroup` to plain filters. Throws an Error describing the problem.
 */
export function parseSubscription(written: string, defaultGroup?: string): ParsedSubscription {
  let filter = written;
  let group = defaultGroup;
  if (written.startsWith(SHARE_PREFIX)) {
    const rest = written.slice(SHARE_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) throw new Error(`a shared subscription is written '$share/<group>/<filter>', not '${written}'`);
    group = rest.slice(0, slash);
    filter = rest.slice(slash + 1);
  }
  const problem = topicFilterProblem(filter);
  if (problem) throw new Error(`topic filter '${filter}' ${problem}`);
  if (group !== undefined) {
    const groupProblem = shareGroupProblem(group);
    if (groupProblem) throw new Error(`shared subscription group '${group}' ${groupProblem}`);
    return { filter, group, subscribeTopic: `${SHARE_PREFIX}${group}/${filter}` };
  }
  return { filter, subscribeTopic: filter };
}

/**
 * True when `topic` (a concrete topic name) matches `filter`. Filters starting with a wildcard
 * do not match topics starting with `$` (`$SYS/...`), as the specification requires.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
