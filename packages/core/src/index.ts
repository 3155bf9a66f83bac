// Kindling's foundations: the entity model, names and subjects, the bus and store contracts adapters
// implement, errors, logging, ids and CloudEvents. Named exports only: what is not listed here is
// not public. Provider authors import @kindling/sdk, which re-exports the part of this they need.
export { type ErrorCode, ErrorCodes, isKindlingError, KindlingError, type KindlingErrorOptions, messageOf, notFound } from './errors.js';
export { parseWith, validationError } from './validation.js';
export { assertEntityName, decodeToken, encodeToken, entityNameSchema, formatQualifiedName, MAX_NAME_LENGTH, parseQualifiedName, type QualifiedName } from './names.js';
export { type BucketName, Buckets, entityKey, namespaceKeyPrefix, Streams, Subjects } from './subjects.js';
export { assertFilter, assertSubject, filterCovers, filtersOverlap, subjectMatches } from './subject-filter.js';
export { type BusMessage, type ConsumeOptions, type Consumption, decodeJson, decoder, encodeJson, encoder, type EventBus, type Listener, type MessageHandler, type PublishAck, type PublishOptions } from './bus.js';
export {
  allStreams,
  assertPayloadSize,
  checkConsumeOptions,
  type CheckedConsumeOptions,
  DEFAULT_ACK_WAIT_MS,
  DUPLICATE_WINDOW_MS,
  isWorkQueue,
  MAX_PAYLOAD_BYTES,
  type StreamDefinition,
  streamOfSubject,
} from './bus-contract.js';
export { type KeyValueStore, type KvBucket, type KvChange, type KvEntry, type KvWatch, type KvWatchOptions } from './store.js';
export { KvChangeQueue } from './kv-change-queue.js';
export { assertBucketName, assertKey } from './kv-names.js';
export { JsonBucket, type Versioned } from './json-bucket.js';
export { BucketMirror, type MirrorListener } from './bucket-mirror.js';
export { type Clock, sleep, systemClock, type TimerHandle } from './clock.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { BoundedCache } from './bounded-cache.js';
export { deadLetterMessage, DeadLetterHeaders, headerValue, publishDeadLetter, type DeadLetterKind, type DeadLetterOutcome } from './dead-letter.js';
export { createLogger, type CreateLoggerOptions, type Logger, REDACTED_PATHS, scrubbingLogger, scrubSecrets, silentLogger } from './logger.js';
export { connectionSecrets, scrubbedError } from './connection-secrets.js';
export { activationIdFor, activationTime, batchActivationId, deterministicId, isActivationId, randomActivationId, randomId, ruleActivationId, triggerActivationId } from './ids.js';
export { type CloudEvent, createCloudEvent, type NewEvent } from './cloudevent.js';
export { annotation, bumpVersion, type EntityBase, type EntityPath, fromParams, type KeyValue, keyValueSchema, keyValuesSchema, toParams } from './model/common.js';
export { type ActionExec, actionExecSchema, ActionLimitBounds, type ActionLimits, actionLimitsSchema, type ActionPut, actionPutSchema, type ActionRecord, actionRevision, type BlackboxExec, type CodeExec, defaultLimits, MAX_RESULT_BYTES, MAX_SEQUENCE_LENGTH, NODE_KINDS, type SequenceExec } from './model/action.js';
export { type ReducedRule, type RuleStatus, type TriggerPut, triggerPutSchema, type TriggerRecord } from './model/trigger.js';
export { RULE_BATCH_MAX_SIZE, RULE_BATCH_MAX_WINDOW_MS, type RuleBatch, ruleBatchSchema, type RulePut, rulePutSchema, type RuleRecord, ruleStatusChangeSchema } from './model/rule.js';
export { type FeedDesiredState, type FeedRecord, type FeedStatusName, type FeedStatusRecord } from './model/feed.js';
export { type ActivationRecord, activationResponse, type ActivationResponse, ActivationStatus, type ActivationStatusCode, type InvocationMessage, statusText } from './model/activation.js';
export { type EntityKind, EntityStore, type EntityTypes } from './entities/entity-store.js';
export { type ActivationQuery, type ActivationRetention, type ActivationStore, DEFAULT_ACTIVATION_LIMIT, type PruneStep } from './entities/activation-store.js';
export { MAX_ACTIVATION_LIMIT, parseActivationQuery, parseActivationRetention } from './entities/activation-query.js';
export { DEFAULT_KEY_VALUE_RETENTION, KeyValueActivationStore } from './entities/key-value-activation-store.js';
export { ActivationRecorder } from './entities/activation-recorder.js';
export { type Role, ROLES } from './roles.js';
export { z } from 'zod';
