import { randomBytes } from 'node:crypto';
import type { CursorStore } from '@kindling/sdk';

/** The hook the provider registered on GitHub, by id: DELETE removes exactly this one. */
export interface RegisteredHook {
  id: number;
  /** `repos/octo/hello/hooks` or `orgs/octo/hooks`: where the id is valid. */
  path: string;
  apiUrl: string;
}

/**
 * What a feed keeps in its cursor, so that it survives restarts: the webhook secret the provider
 * generated (GitHub signs every delivery with it) and the hook it registered.
 */
export interface WebhookFeedState {
  secret: string;
  hook?: RegisteredHook;
}

function isState(value: unknown): value is WebhookFeedState {
  return typeof value === 'object' && value !== null && typeof (value as WebhookFeedState).secret === 'string';
}

export async function readFeedState(cursor: CursorStore): Promise<WebhookFeedState | undefined> {
  const value = await cursor.get<unknown>();
  return isState(value) ? value : undefined;
}

/** The stored state, or a new one with a fresh secret, stored before anything is registered with it. */
export async function loadOrCreateFeedState(cursor: CursorStore): Promise<WebhookFeedState> {
  const stored = await readFeedState(cursor);
  if (stored) return stored;
  const state: WebhookFeedState = { secret: randomBytes(32).toString('hex') };
  await cursor.set(state);
  return state;
}
