/**
 * The aggregation stages a feed's change stream runs with. Users may add `$match` and `$project`
 * stages; the feed adds its own operation filter, and makes sure that neither can hide what it
 * relies on: the `_id` (the resume token, which the server refuses to let a pipeline change), the
 * fields that identify an event, and the events that end a stream (`invalidate`, and the `drop`,
 * `rename` or `dropDatabase` that says why).
 */

/** Events the feed always receives, fired or not: they tell it that and why the stream ended. */
export const CONTROL_EVENTS = ['invalidate', 'drop', 'rename', 'dropDatabase'] as const;

/** Fields of a change event the feed reads; a `$project` keeps them. */
const REQUIRED_FIELDS = ['operationType', 'ns', 'to', 'documentKey', 'clusterTime', 'wallTime'];

/** Why a user stage is refused, or undefined when it is fine. */
export function pipelineProblem(stage: Record<string, unknown>): string | undefined {
  const keys = Object.keys(stage);
  if (keys.length !== 1 || (keys[0] !== '$match' && keys[0] !== '$project')) {
    return `each stage must be a single $match or $project (got ${keys.map((k) => JSON.stringify(k)).join(', ') || 'an empty stage'})`;
  }
  const body = stage[keys[0] as string];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return `the ${keys[0]} stage must be an object`;
  if (keys[0] === '$project') {
    const projection = body as Record<string, unknown>;
    if ('_id' in projection) return '$project must leave _id alone: it is the resume token the feed resumes from';
    const excluded = REQUIRED_FIELDS.filter((field) => projection[field] === 0 || projection[field] === false);
    if (excluded.length > 0) return `$project must not remove ${excluded.join(', ')}: the feed needs them`;
  }
  return undefined;
}

/** The stages sent to the server: the operation filter, then each user stage made safe. */
export function buildPipeline(operationTypes: readonly string[], userStages: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const wanted = [...new Set([...operationTypes, ...CONTROL_EVENTS])];
  const control = { operationType: { $in: [...CONTROL_EVENTS] } };
  const stages: Record<string, unknown>[] = [{ $match: { operationType: { $in: wanted } } }];
  for (const stage of userStages) {
    if ('$match' in stage) {
      stages.push({ $match: { $or: [control, stage.$match] } });
    } else {
      const projection = stage.$project as Record<string, unknown>;
      const inclusive = Object.values(projection).some((value) => value !== 0 && value !== false);
      stages.push({ $project: inclusive ? { ...projection, ...Object.fromEntries(REQUIRED_FIELDS.map((f) => [f, 1])) } : projection });
    }
  }
  return stages;
}
