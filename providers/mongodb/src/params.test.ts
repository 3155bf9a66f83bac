import { describe, expect, it } from '@jest/globals';
import { connectionSecrets, parseWith, scrubbedError } from '@kindling/sdk';
import { buildPipeline } from './change-pipeline.js';
import { classifyMongoError } from './mongo-errors.js';
import { mongoChangesParams } from './params.js';
import { mongoErrors } from './testing/fake-replica-set.js';

const parse = (input: Record<string, unknown>) => parseWith(mongoChangesParams, { uri: 'mongodb://h/?replicaSet=rs0', ...input }, { code: 'KND_BAD_FEED_PARAMS' });

describe('mongodb/changes parameters', () => {
  it('has defaults for everything but the uri, and takes lists and pipelines as the CLI sends them', () => {
    expect(parse({})).toEqual({
      uri: 'mongodb://h/?replicaSet=rs0',
      operationTypes: ['insert', 'update', 'replace', 'delete'],
      pipeline: [],
      fullDocument: 'default',
      fullDocumentBeforeChange: 'off',
      onHistoryLost: 'disable',
    });
    const parsed = parse({ database: 'shop', collection: 'orders', operationTypes: 'insert,update', pipeline: '[{"$match":{"fullDocument.status":"paid"}}]' });
    expect(parsed.operationTypes).toEqual(['insert', 'update']);
    expect(parsed.pipeline).toEqual([{ $match: { 'fullDocument.status': 'paid' } }]);
  });

  it('names the field of each mistake', () => {
    expect(() => parse({ uri: 'postgres://x' })).toThrow(/'uri': must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/);
    expect(() => parse({ collection: 'orders' })).toThrow(/'collection': needs 'database' too/);
    expect(() => parse({ operationTypes: 'insert,upsert' })).toThrow(/'operationTypes.1'/);
    expect(() => parse({ pipeline: [{ $group: { _id: '$x' } }] })).toThrow(/'pipeline.0': each stage must be a single \$match or \$project \(got "\$group"\)/);
    expect(() => parse({ pipeline: [{ $match: {}, $project: {} }] })).toThrow(/'pipeline.0': each stage must be a single/);
    expect(() => parse({ pipeline: [{ $match: {} }, { $project: { _id: 0 } }] })).toThrow(/'pipeline.1': \$project must leave _id alone/);
    expect(() => parse({ pipeline: [{ $project: { operationType: 0 } }] })).toThrow(/must not remove operationType/);
    expect(() => parse({ pipeline: 'not json' })).toThrow(/'pipeline': must be a list of aggregation stages/);
    expect(() => parse({ onHistoryLost: 'ignore' })).toThrow(/'onHistoryLost'/);
  });
});

describe('the change stream pipeline', () => {
  it('filters on the operations asked for plus those that end a stream, and keeps user stages from hiding them', () => {
    expect(buildPipeline(['insert'], [{ $match: { 'fullDocument.total': { $gt: 10 } } }, { $project: { fullDocument: 1 } }])).toEqual([
      { $match: { operationType: { $in: ['insert', 'invalidate', 'drop', 'rename', 'dropDatabase'] } } },
      { $match: { $or: [{ operationType: { $in: ['invalidate', 'drop', 'rename', 'dropDatabase'] } }, { 'fullDocument.total': { $gt: 10 } }] } },
      { $project: { fullDocument: 1, operationType: 1, ns: 1, to: 1, documentKey: 1, clusterTime: 1, wallTime: 1 } },
    ]);
    expect(buildPipeline(['delete'], [{ $project: { fullDocument: 0 } }])[1]).toEqual({ $project: { fullDocument: 0 } });
  });
});

describe('error classification', () => {
  it('tells history loss, resumable, fatal and other errors apart', () => {
    expect(classifyMongoError(mongoErrors.historyLost())).toBe('history-lost');
    expect(classifyMongoError(Object.assign(new Error('resume point may no longer be in the oplog'), { code: 280 }))).toBe('history-lost');
    expect(classifyMongoError(mongoErrors.network())).toBe('resumable');
    expect(classifyMongoError(Object.assign(new Error('x'), { code: 91, hasErrorLabel: (l: string) => l === 'ResumableChangeStreamError' }))).toBe('resumable');
    expect(classifyMongoError(Object.assign(new Error('cursor id 7 not found'), { code: 43 }))).toBe('resumable');
    expect(classifyMongoError(mongoErrors.unauthorized('mongodb://h'))).toBe('fatal');
    expect(classifyMongoError(new Error('something else'))).toBe('retry');
  });
});

describe('connection secrets', () => {
  it('scrubs the uri, the user info and the password, encoded or not, from driver messages', () => {
    const uri = 'mongodb://app:p%40ss-w0rd@db1:27017,db2:27017/?replicaSet=rs0';
    expect(connectionSecrets(uri)).toEqual(expect.arrayContaining([uri, 'app:p%40ss-w0rd', 'p%40ss-w0rd', 'p@ss-w0rd']));
    expect(scrubbedError(new Error(`bad auth for ${uri}: password p@ss-w0rd`), uri).message).toBe('bad auth for [redacted]: password [redacted]');
  });
});
