import type { FeedContext, FeedHandle, ProviderDefinition } from '@kindling/sdk';
import type { FeedObserver, InstanceRecord } from './feed-observer.js';
import type { ResourceTracker } from './resource-tracker.js';

/** A feed kind of any parameter type, as a provider definition holds them. */
type Kind = ProviderDefinition['kinds'][string];

/**
 * The provider as the kit runs it: the same definition, with each feed's context and handle
 * wrapped so that the kit sees every start, stop and fire, and knows which timers and sockets
 * the provider's own code created. The provider's calls still go to the real host.
 */
export function instrumentProvider(provider: ProviderDefinition, observer: FeedObserver, tracker: ResourceTracker): ProviderDefinition {
  const kinds: Record<string, Kind> = {};
  for (const [name, kind] of Object.entries(provider.kinds)) kinds[name] = instrumentKind(kind, observer, tracker);
  return { ...provider, kinds };
}

function instrumentKind(kind: Kind, observer: FeedObserver, tracker: ResourceTracker): Kind {
  const wrapped: Kind = {
    ...kind,
    async start(feed, ctx): Promise<FeedHandle> {
      const instance = observer.started(feed.id, feed.generation, ctx.signal);
      const owner = `${feed.id}#${instance.seq}`;
      let handle: FeedHandle;
      try {
        handle = await tracker.run(owner, () => kind.start(feed, contextFor(ctx, instance, owner, observer, tracker)));
      } catch (error) {
        observer.ended(instance, owner);
        throw error;
      }
      // A start that returns no handle leaves the host nothing to stop: passed on as it is.
      return handle ? handleFor(handle, instance, owner, observer, tracker) : handle;
    },
  };
  if (kind.teardown) {
    const teardown = kind.teardown.bind(kind);
    wrapped.teardown = (feed, ctx) => tracker.run(`${feed.id}#teardown`, () => teardown(feed, ctx));
  }
  if (kind.validate) {
    const validate = kind.validate.bind(kind);
    wrapped.validate = (params, ctx) => tracker.run('validate', () => validate(params, ctx));
  }
  return wrapped;
}

function contextFor(ctx: FeedContext, instance: InstanceRecord, owner: string, observer: FeedObserver, tracker: ResourceTracker): FeedContext {
  return {
    ...ctx,
    fire(data, options) {
      const attempt = observer.fireCalled(instance, data, options);
      const fired = tracker.outside(() => ctx.fire(data, options));
      // Observes the outcome without handling the provider's rejection for it.
      fired.then(
        () => (attempt.settled = true),
        () => (attempt.settled = true),
      );
      return fired;
    },
    cursor: {
      get: () => tracker.outside(() => ctx.cursor.get()),
      set: (value) => tracker.outside(() => ctx.cursor.set(value)),
    },
    resources: {
      acquire: (key, create, dispose) =>
        tracker.outside(() =>
          ctx.resources.acquire(
            key,
            () => tracker.run(owner, create),
            (resource) => tracker.run(owner, () => dispose(resource)),
          ),
        ),
    },
    fail: (error) => tracker.outside(() => ctx.fail(error)),
    degraded: (reason) => tracker.outside(() => ctx.degraded(reason)),
    healthy: () => tracker.outside(() => ctx.healthy()),
    complete: (reason, options) => tracker.outside(() => ctx.complete(reason, options)),
  };
}

function handleFor(handle: FeedHandle, instance: InstanceRecord, owner: string, observer: FeedObserver, tracker: ResourceTracker): FeedHandle {
  const wrapped: FeedHandle = {
    async stop() {
      instance.stopCalledAt = Date.now();
      try {
        await tracker.run(owner, () => handle.stop());
      } finally {
        observer.ended(instance, owner);
      }
    },
  };
  if (handle.hook) {
    const hook = handle.hook.bind(handle);
    wrapped.hook = (request) => tracker.run(owner, () => hook(request));
  }
  return wrapped;
}
