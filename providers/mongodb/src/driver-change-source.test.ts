import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { ProviderRegistry } from '@kindling/provider-testkit';
import { mongoProvider } from './mongo-provider.js';

// The official driver with no MongoDB to reach (none can run here): what a user sees at CREATE
// when the URI points nowhere. Everything a server answers is in mongo-feed.integration.test.ts.
describe('mongodb/changes with the official driver', () => {
  it('refuses at CREATE a URI where no server answers, naming the field and hiding the password', async () => {
    const registry = new ProviderRegistry([mongoProvider]);
    const uri = 'mongodb://app:Sekr1t-pw@127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300';
    const attempt = registry.validateParams('mongodb', 'changes', { uri, database: 'shop' }, { log: silentLogger(), signal: new AbortController().signal });
    await expect(attempt).rejects.toMatchObject({ code: 'KND_BAD_FEED_PARAMS', field: 'uri', message: expect.stringMatching(/^'uri': cannot connect to MongoDB: .*ECONNREFUSED/) });
    await expect(attempt.catch((error: Error) => error.message)).resolves.not.toContain('Sekr1t-pw');
  });
});
