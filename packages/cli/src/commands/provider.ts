import type { Command } from 'commander';
import { ApiError, isRecord } from '../api-client.js';
import { commandContext, type CliRuntime } from '../runtime.js';

/** One feed kind of one provider, a row of `provider list`. */
interface KindRow {
  provider: string;
  kind: string;
  pattern: string;
  parameters: string;
  description: string;
}

export function registerProviderCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('provider').description('the feed providers the platform has loaded');

  group
    .command('list')
    .description('list providers and their feed kinds, with the parameters each kind takes')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = commandContext(runtime, command, userAgent);
      let body: unknown;
      try {
        ({ body } = await (await ctx.api()).request('GET', 'providers'));
      } catch (error) {
        if (error instanceof ApiError && error.httpStatus === 404) {
          throw new ApiError('GET', 'providers', 404, 'Not Found', {
            error: 'this API does not list providers (GET /api/v1/providers answered 404); is it an older Kindling, or OpenWhisk?',
          });
        }
        throw error;
      }
      if (ctx.out.json) return ctx.out.value(body);
      ctx.out.list(kindRows(body), [
        { header: 'provider', value: (r) => r.provider },
        { header: 'kind', value: (r) => r.kind },
        { header: 'pattern', value: (r) => r.pattern },
        { header: 'parameters', value: (r) => r.parameters, maxWidth: 60 },
        { header: 'description', value: (r) => r.description, maxWidth: 60 },
      ]);
    });
}

/**
 * Rows from `[{name, kinds}]`, where `kinds` is a list of `{name, ...}` or a map by kind name,
 * and each kind carries its JSON schema as `schema` (or `params`).
 */
export function kindRows(body: unknown): KindRow[] {
  const providers = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.providers) ? body.providers : [];
  const rows: KindRow[] = [];
  for (const provider of providers) {
    if (!isRecord(provider)) continue;
    const kinds: Array<Record<string, unknown>> = Array.isArray(provider.kinds)
      ? provider.kinds.filter(isRecord)
      : isRecord(provider.kinds)
        ? Object.entries(provider.kinds).map(([name, kind]) => ({ name, ...(isRecord(kind) ? kind : {}) }))
        : [];
    for (const kind of kinds) {
      rows.push({
        provider: String(provider.name ?? ''),
        kind: String(kind.name ?? ''),
        pattern: typeof kind.pattern === 'string' ? kind.pattern : '',
        parameters: parameterSummary(kind.schema ?? kind.params),
        description: typeof kind.description === 'string' ? kind.description : '',
      });
    }
  }
  return rows;
}

/** A JSON schema's properties, required ones first, optional ones in brackets: `cron [timezone]`. */
function parameterSummary(schema: unknown): string {
  if (!isRecord(schema) || !isRecord(schema.properties)) return '';
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const names = Object.keys(schema.properties);
  return [...names.filter((n) => required.has(n)), ...names.filter((n) => !required.has(n)).map((n) => `[${n}]`)].join(' ');
}
