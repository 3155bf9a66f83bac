import { type Logger, messageOf } from '@kindling/core';

interface Entry {
  resource: Promise<unknown>;
  dispose: (resource: unknown) => Promise<void>;
  users: Set<string>;
}

/** Reference-counted resources shared by the feeds of one provider on one host. */
export class SharedResourcePool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly log: Logger) {}

  async acquire<T>(user: string, key: string, create: () => Promise<T>, dispose: (resource: T) => Promise<void>): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      const created = create();
      entry = { resource: created, dispose: dispose as (resource: unknown) => Promise<void>, users: new Set() };
      this.entries.set(key, entry);
      created.catch(() => this.entries.delete(key));
    }
    entry.users.add(user);
    return (await entry.resource) as T;
  }

  /** Releases everything `user` acquired; disposes what no one uses any more. */
  async releaseAll(user: string): Promise<void> {
    const disposals: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      if (!entry.users.delete(user) || entry.users.size > 0) continue;
      this.entries.delete(key);
      disposals.push(
        entry.resource
          .then((resource) => entry.dispose(resource))
          .catch((error) => this.log.warn({ resource: key, err: messageOf(error) }, 'disposing a shared resource failed')),
      );
    }
    await Promise.all(disposals);
  }

  get size(): number {
    return this.entries.size;
  }
}
