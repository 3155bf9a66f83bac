import { mkdir } from 'node:fs/promises';
import { KeyValueActivationStore, KindlingError, messageOf, ROLES, type EventBus, type KeyValueStore, type Logger, type Role } from '@kindling/core';
import type { ProviderDefinition } from '@kindling/sdk';
import { FeedHost, loadProviderPackage, ProviderRegistry } from '@kindling/host';
import { createApi, NamespaceStore, type HookDispatcher } from '@kindling/api';
import { compileRuleFilter, RuleEngine } from '@kindling/rules';
import { Invoker } from '@kindling/runner';
import { startEmbeddedBroker, type EmbeddedBroker } from '@kindling/mqtt-broker';
import { ActivationPruner } from '@kindling/activations';
import { openActivationStore } from './open-activation-store.js';
import { startKeyValueActivationImport } from './import-key-value-activations.js';
import { builtInProviders } from './built-in-providers.js';
import { openBackend } from './open-backend.js';
import { resolveGuestAuth } from './guest-auth.js';
import { createRuntime } from './create-runtime.js';
import { containStrayErrors } from './contain-stray-errors.js';
import type { PlatformOptions, RunningPlatform } from './platform-options.js';

export const DEFAULT_MQTT_PORT = 1883;

/**
 * The composition root of `kindling up`: the four roles of a deployment (API, provider host,
 * rule engine, invoker) in one process, on the embedded backend or on NATS. Parts start in
 * dependency order (consumers before producers) and stop in reverse, so that nothing accepted
 * during shutdown is left half-done.
 */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const log = options.log;
  const roles = rolesOf(options);
  await mkdir(options.dataDir, { recursive: true });
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) {
      await stop().catch((error) => log.error({ err: messageOf(error) }, 'stopping a part of the platform failed'));
    }
    stack.length = 0;
  };
  try {
    const release = containStrayErrors(log);
    stack.push(async () => release());
    const backend = await openBackend(options);
    stack.push(() => backend.close());
    const { bus, store } = backend;
    const activations = await openActivationStore(options.activations ?? {}, {
      store,
      embedded: !options.natsUrl,
      dataDir: options.dataDir,
      log,
      ...(backend.database ? { database: backend.database, ...(backend.write ? { write: backend.write.bind(backend) } : {}) } : {}),
    });
    stack.push(() => activations.close());
    if (!(activations instanceof KeyValueActivationStore)) {
      // Records an earlier Kindling kept in the key-value bucket move over while the platform serves.
      const importing = startKeyValueActivationImport(store, activations, log.child({ component: 'activations' }));
      stack.push(() => importing.stop());
    }
    if (roles.includes('api')) {
      // Pruning is idempotent, so every API process may run it; each still does it in small steps.
      const pruner = new ActivationPruner({ store: activations, log: log.child({ component: 'activations' }) });
      pruner.start();
      stack.push(() => pruner.stop());
    }

    const guestAuth = await resolveGuestAuth(options.dataDir, options.auth);
    await (await NamespaceStore.open(store)).ensureNamespace('guest', guestAuth);

    const registry = await loadRegistry(options, log);
    const listenUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const publicUrl = options.publicUrl ?? listenUrl;
    if (roles.includes('invoker')) {
      const runtime = await createRuntime(options, publicUrl, log);
      const invoker = new Invoker({ bus, store, activations, runtime, log: log.child({ role: 'invoker' }) });
      await invoker.start();
      // Together: the invoker would otherwise wait out the actions still running; interrupted
      // invocations are not acked, so the bus delivers them again on the next start.
      stack.push(async () => {
        await Promise.all([invoker.stop(), runtime.stop()]);
      });
    }

    if (roles.includes('rules')) {
      const rules = new RuleEngine({ bus, store, activations, log: log.child({ role: 'rules' }) });
      await rules.start();
      stack.push(() => rules.stop());
    }

    let hooks: HookDispatcher = hooksElsewhere;
    if (roles.includes('providers')) {
      const host = new FeedHost({ store, bus, registry, log: log.child({ role: 'providers' }), publicUrl });
      await host.start();
      stack.push(() => host.stop());
      hooks = host;
    }

    let apiUrl: string | undefined;
    if (roles.includes('api')) {
      const api = await createApi({
        store,
        bus,
        activations,
        registry,
        log: log.child({ role: 'api' }),
        hooks,
        publicUrl,
        validateRuleFilter: (filter) => void compileRuleFilter(filter),
      });
      await api.listen({ port: options.port, host: options.host });
      stack.push(() => api.close());
      const address = api.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      apiUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
    }

    const broker = options.mqtt && roles.includes('providers') ? await startBroker(options, log) : undefined;
    if (broker) stack.push(() => broker.close());

    log.info({ apiUrl, roles, backend: options.natsUrl ? 'nats' : 'embedded', providers: registry.list().map((p) => p.name) }, 'kindling is up');
    return { ...(apiUrl ? { apiUrl } : {}), roles, guestAuth, ...(broker ? { mqttUrl: broker.url } : {}), stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function rolesOf(options: PlatformOptions): readonly Role[] {
  const roles = options.roles ?? ROLES;
  const unknown = roles.filter((role) => !ROLES.includes(role));
  if (unknown.length > 0 || roles.length === 0) {
    throw new KindlingError('KND_VALIDATION', `'roles' must name some of ${ROLES.join(', ')}; got ${roles.join(', ') || 'none'}`, { field: 'roles' });
  }
  if (roles.length < ROLES.length && !options.natsUrl) {
    throw new KindlingError('KND_VALIDATION', "running only some roles needs --nats: the embedded bus and store live inside one process", { field: 'roles' });
  }
  return roles;
}

/**
 * Webhooks reach the feed that owns them through the provider host of this process; an API
 * process without one answers 503, so that the sender retries (and the operator sees why).
 */
const hooksElsewhere: HookDispatcher = {
  dispatchHook() {
    throw new KindlingError('KND_BUS_UNAVAILABLE', 'this API process runs no provider host; webhooks need the api and providers roles in one process');
  },
};

/** The built-in providers plus the `--provider` packages; a package that fails to load is reported and skipped. */
async function loadRegistry(options: PlatformOptions, log: Logger): Promise<ProviderRegistry> {
  const registry = new ProviderRegistry(builtInProviders());
  for (const specifier of options.providers) {
    let provider: ProviderDefinition;
    try {
      provider = await loadProviderPackage(specifier, options.providersFrom);
      registry.register(provider, `package '${specifier}'`);
      log.info({ provider: provider.name, package: specifier, kinds: Object.keys(provider.kinds) }, 'provider loaded');
    } catch (error) {
      log.error({ package: specifier, err: messageOf(error) }, 'provider not loaded; the platform runs without it');
    }
  }
  return registry;
}

/**
 * The embedded broker is a convenience: when its port is taken (a Mosquitto already runs there),
 * the platform still starts and says how to move the broker or turn it off.
 */
async function startBroker(options: PlatformOptions, log: Logger): Promise<EmbeddedBroker | undefined> {
  try {
    return await startEmbeddedBroker({ port: options.mqttPort ?? DEFAULT_MQTT_PORT, host: options.host, log });
  } catch (error) {
    log.warn({ err: messageOf(error) }, 'embedded MQTT broker not started');
    return undefined;
  }
}

export type { EventBus, KeyValueStore };
