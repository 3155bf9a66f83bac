import { emitterEventNames } from '@octokit/webhooks';

/** Every webhook event name GitHub documents (from `@octokit/webhooks`), with the actions it sends. */
const KNOWN_ACTIONS: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const actions = new Map<string, Set<string>>();
  for (const name of emitterEventNames) {
    const [event, action] = splitEventName(name);
    const known = actions.get(event) ?? new Set<string>();
    if (action !== undefined) known.add(action);
    actions.set(event, known);
  }
  return actions;
})();

/** `repository_dispatch` carries the `event_type` its sender chose as the action: any name goes. */
const FREE_ACTION_EVENTS = new Set(['repository_dispatch']);

/** A delivery answered by the provider itself; it never becomes an event. */
export const PING_EVENT = 'ping';

function splitEventName(name: string): [string, string | undefined] {
  const dot = name.indexOf('.');
  return dot < 0 ? [name, undefined] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** The `events` parameter as a list: a list stays one, a string is split on commas. */
export function eventEntries(events: string | readonly string[]): string[] {
  const list = typeof events === 'string' ? events.split(',') : events;
  return list.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

/** Why an entry of `events` is not one GitHub sends, or undefined when it is fine. */
export function eventEntryProblem(entry: string): string | undefined {
  if (entry === '*') return undefined;
  const [event, action] = splitEventName(entry);
  if (event === PING_EVENT) return `'ping' cannot be chosen: GitHub sends it once when a hook is set up, and the feed answers it without firing`;
  const actions = KNOWN_ACTIONS.get(event);
  if (!actions) return `'${event}' is not a GitHub webhook event (such as push, pull_request, issues, release, workflow_run)`;
  if (action === undefined || FREE_ACTION_EVENTS.has(event)) {
    return action === '' ? `'${entry}' has an empty action` : undefined;
  }
  if (actions.size === 0) return `'${event}' events carry no action: use '${event}' alone`;
  if (!actions.has(action)) return `'${action}' is not an action of '${event}' events; GitHub sends: ${[...actions].sort().join(', ')}`;
  return undefined;
}

/**
 * Which deliveries a feed turns into events: `*` (all), `push` (every action of an event), or
 * `pull_request.opened` (one action). Checked before anything is published.
 */
export class EventSelector {
  private readonly all: boolean;
  private readonly wholeEvents = new Set<string>();
  private readonly actions = new Set<string>();

  constructor(readonly entries: readonly string[]) {
    this.all = entries.includes('*');
    for (const entry of entries) {
      const [event, action] = splitEventName(entry);
      if (action === undefined) this.wholeEvents.add(event);
      else this.actions.add(entry);
    }
  }

  accepts(event: string, action: string | undefined): boolean {
    if (this.all || this.wholeEvents.has(event)) return true;
    return action !== undefined && this.actions.has(`${event}.${action}`);
  }

  /** The event names the GitHub hook must subscribe to (actions are filtered here, not by GitHub). */
  hookEvents(): string[] {
    if (this.all) return ['*'];
    return [...new Set(this.entries.map((entry) => splitEventName(entry)[0]))].sort();
  }

  toString(): string {
    return this.entries.join(', ');
  }
}
