import type { ProviderDefinition } from '@kindling/sdk';
import { alarmsProvider } from '@kindling/alarms';
import { githubProvider } from '@kindling/github';
import { mongoProvider } from '@kindling/mongodb';
import { mqttProvider } from '@kindling/mqtt';
import { pgProvider } from '@kindling/postgres';

/** The providers every `kindling up` has. */
export function builtInProviders(): ProviderDefinition[] {
  return [alarmsProvider, githubProvider, mongoProvider, mqttProvider, pgProvider];
}
