import { z } from '@kindling/sdk';
import { pipelineProblem } from './change-pipeline.js';

/** Change event types a feed can fire on. */
export const OPERATION_TYPES = ['insert', 'update', 'replace', 'delete', 'drop', 'rename', 'dropDatabase'] as const;
export const DEFAULT_OPERATION_TYPES = ['insert', 'update', 'replace', 'delete'] as const;

/** Accepts a list as an array or as one comma-separated string (`-p operationTypes insert,update`). */
function listOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part.length > 0) : value),
    z.array(item),
  );
}

/** Accepts a pipeline as an array of stages or as its JSON text. */
const pipelineSchema = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  },
  z
    .array(z.record(z.string(), z.unknown()), 'must be a list of aggregation stages (JSON), e.g. [{"$match": {"fullDocument.status": "paid"}}]')
    .superRefine((stages, ctx) => {
      stages.forEach((stage, i) => {
        const problem = pipelineProblem(stage);
        if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem });
      });
    }),
);

const NAME = /^[^/\\. "$\0]+$/;

export const mongoChangesParams = z
  .strictObject({
    /** `mongodb://user:password@host/?replicaSet=rs0` or `mongodb+srv://…`; a secret. */
    uri: z.string().refine((value) => /^mongodb(?:\+srv)?:\/\/./.test(value), 'must be a mongodb:// or mongodb+srv:// connection string'),
    /** The database to watch; the whole deployment when left out. */
    database: z.string().regex(NAME, 'must be a database name (no /, \\, ., space, ", $)').optional(),
    /** The collection to watch; the whole database when left out. */
    collection: z.string().min(1).refine((value) => !value.startsWith('system.') && !value.includes('$'), 'must be a collection name (not system.*, no $)').optional(),
    operationTypes: listOf(z.enum(OPERATION_TYPES))
      .pipe(z.array(z.enum(OPERATION_TYPES)).min(1, `name at least one of ${OPERATION_TYPES.join(', ')}`))
      .default([...DEFAULT_OPERATION_TYPES]),
    /** Extra `$match` / `$project` stages, applied by the server. */
    pipeline: pipelineSchema.default([]),
    fullDocument: z.enum(['default', 'updateLookup', 'whenAvailable', 'required']).default('default'),
    fullDocumentBeforeChange: z.enum(['off', 'whenAvailable', 'required']).default('off'),
    /**
     * When the stored resume point has fallen off the oplog: `disable` the feed (the default:
     * someone decides), or `restart` from now after firing a gap event that says what was skipped.
     */
    onHistoryLost: z.enum(['disable', 'restart']).default('disable'),
  })
  .refine((params) => params.collection === undefined || params.database !== undefined, {
    path: ['collection'],
    message: "needs 'database' too: a collection is watched within a database",
  });

export type MongoChangesParams = z.output<typeof mongoChangesParams>;
