import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The API's Prometheus metrics, in a registry of its own (several APIs may share a process in tests). */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'kindling_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'kindling_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });

  readonly fires = new Counter({
    name: 'kindling_trigger_fires_total',
    help: "Trigger fires through the API: 'published' when at least one rule is active, else 'no_active_rule'.",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly invocations = new Counter({
    name: 'kindling_action_invocations_total',
    help: "Action invocations through the API, by mode (blocking, non_blocking) and outcome (done, accepted = still running when answered).",
    labelNames: ['mode', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly feedOperations = new Counter({
    name: 'kindling_feed_operations_total',
    help: 'Feed lifecycle operations (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE) by outcome.',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly hookRequests = new Counter({
    name: 'kindling_hook_requests_total',
    help: 'Webhook deliveries on /hooks, by provider and status answered.',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kindling_api_' });
  }
}
