import { describe, expect, it } from '@jest/globals';
import { parseSubscription, topicFilterProblem, topicMatches } from './topic-filter.js';
import { TopicTree } from './topic-tree.js';

const cases: Array<[filter: string, topic: string, matches: boolean]> = [
  ['sensors/+/temperature', 'sensors/a/temperature', true],
  ['sensors/+/temperature', 'sensors/a/b/temperature', false],
  ['sensors/+/temperature', 'sensors//temperature', true],
  ['sensors/+/temperature', 'sensors/a/humidity', false],
  ['sensors/#', 'sensors', true],
  ['sensors/#', 'sensors/a/b/c', true],
  ['sensors/#', 'sensor', false],
  ['sensors/+', 'sensors', false],
  ['sensors/+', 'sensors/', true],
  ['+/+', '/a', true],
  ['+', 'a/b', false],
  ['#', 'a/b/c', true],
  ['#', '$SYS/broker/uptime', false],
  ['+/broker/uptime', '$SYS/broker/uptime', false],
  ['$SYS/#', '$SYS/broker/uptime', true],
  ['$SYS/+/uptime', '$SYS/broker/uptime', true],
  ['a/b', 'a/b', true],
  ['a/b', 'a/b/', false],
  ['A/b', 'a/b', false],
];

describe('topic filters', () => {
  it.each(cases)('%s against %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('a topic tree of all the filters finds exactly the filters that match', () => {
    const tree = new TopicTree<string>();
    const filters = [...new Set(cases.map(([filter]) => filter))];
    for (const filter of filters) tree.add(filter, filter);
    for (const topic of new Set(cases.map(([, topic]) => topic))) {
      const expected = filters.filter((filter) => topicMatches(filter, topic)).sort();
      expect([...tree.match(topic)].sort()).toEqual(expected);
    }
  });

  it('forgets a removed filter, and keeps the others that share its levels', () => {
    const tree = new TopicTree<string>();
    tree.add('a/+/c', 'one');
    tree.add('a/+/c', 'two');
    tree.add('a/#', 'three');
    tree.remove('a/+/c', 'one');
    expect([...tree.match('a/b/c')].sort()).toEqual(['three', 'two']);
    tree.remove('a/+/c', 'two');
    tree.remove('a/#', 'three');
    expect(tree.match('a/b/c').size).toBe(0);
    tree.add('a/b/c', 'four');
    expect([...tree.match('a/b/c')]).toEqual(['four']);
  });

  it.each([
    ['', 'must not be empty'],
    ['a/#/b', "has '#' before the last level"],
    ['a/b#', "has 'b#'"],
    ['a/+b/c', "has '+b'"],
    ['a\u0000b', 'NUL'],
  ])('refuses %j: %s', (filter, problem) => {
    expect(topicFilterProblem(filter)).toContain(problem);
  });

  it('reads shared subscriptions, and applies a default group to plain filters', () => {
    expect(parseSubscription('$share/ingest/sensors/+/t')).toEqual({ filter: 'sensors/+/t', group: 'ingest', subscribeTopic: '$share/ingest/sensors/+/t' });
    expect(parseSubscription('sensors/#', 'g1')).toEqual({ filter: 'sensors/#', group: 'g1', subscribeTopic: '$share/g1/sensors/#' });
    expect(parseSubscription('sensors/#')).toEqual({ filter: 'sensors/#', subscribeTopic: 'sensors/#' });
    expect(() => parseSubscription('$share/g')).toThrow("'$share/<group>/<filter>'");
    expect(() => parseSubscription('$share/g/a/#/b')).toThrow("'#' must be the last level");
    expect(() => parseSubscription('a/b', 'g+')).toThrow("group 'g+' must not contain");
  });
});
