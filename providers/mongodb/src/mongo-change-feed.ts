import { backoffDelay, deterministicId, FeedError, scrubbedError, sleep, type BackoffOptions, type FeedContext } from '@kindling/sdk';
import { changeData, changeTime, endOfStreamReason, eventIdOf, namespaceOf, parseToken, serializeToken, type MongoCursor } from './change-event.js';
import { buildPipeline } from './change-pipeline.js';
import type { ChangeCursor, ChangeDocument, ChangeSource, ResumeToken, WatchOptions } from './change-source.js';
import { classifyMongoError, fatalReason } from './mongo-errors.js';
import type { MongoChangesParams } from './params.js';

export interface MongoChangeFeedOptions {
  params: MongoChangesParams;
  source: ChangeSource;
  ctx: Pick<FeedContext, 'fire' | 'cursor' | 'log' | 'fail' | 'degraded' | 'healthy' | 'clock' | 'signal'>;
  /** Least time between two cursor writes while changes stream in. */
  checkpointIntervalMs?: number;
  /** Resumable errors in a row the feed rides out by itself before it reports a failure. */
  maxResumeAttempts?: number;
  resumeBackoff?: BackoffOptions;
}

export const GAP_EVENT_TYPE = 'dev.kindling.mongodb.gap';

/**
 * Follows a change stream: fires each change, awaited until durable, and only then takes its
 * resume token as the position to come back to (stored in the feed's cursor, at most every
 * `checkpointIntervalMs` and on stop). A restart opens the stream with `startAfter` that token,
 * so a crash repeats at most the changes after the last stored token, under the same ids.
 */
export class MongoChangeFeed {
  private durable: MongoCursor | undefined;
  private stored: string | undefined;
  private stopped = false;
  private current: ChangeCursor | undefined;
  private loop: Promise<void> = Promise.resolve();
  /** What the last control event said (drop, rename, dropDatabase): why an `invalidate` came. */
  private endReason: string | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private readonly pipeline: Record<string, unknown>[];

  private constructor(private readonly options: MongoChangeFeedOptions) {
    this.pipeline = buildPipeline(options.params.operationTypes, options.params.pipeline);
  }

  static async start(options: MongoChangeFeedOptions): Promise<MongoChangeFeed> {
    const feed = new MongoChangeFeed(options);
    feed.durable = await options.ctx.cursor.get<MongoCursor>();
    feed.stored = feed.durable?.token;
    feed.loop = feed.run();
    return feed;
  }

  /** Stops following; a change read but not yet fired is left for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.close().catch(() => undefined);
    await this.loop;
    clearTimeout(this.checkpointTimer);
    await this.checkpointing;
    await this.checkpoint().catch((error) => this.options.ctx.log.warn({ err: this.scrub(error) }, 'storing the final resume token failed'));
  }

  private get ctx() {
    return this.options.ctx;
  }

  private async run(): Promise<void> {
    let attempts = 0;
    while (!this.stopped) {
      const cursor = this.open();
      try {
        for (;;) {
          const change = await cursor.tryNext();
          // A change read after stop is not fired: the next start reads it again.
          if (this.stopped) return;
          if (attempts > 0) {
            attempts = 0;
            this.ctx.healthy();
          }
          if (!change) {
            if (cursor.closed) throw new FeedError('the change stream closed without an invalidate event');
            this.idle(cursor.resumeToken);
            continue;
          }
          if (await this.handle(change)) return;
        }
      } catch (error) {
        if (this.stopped) return;
        const kind = classifyMongoError(error);
        if (kind === 'resumable' && attempts < (this.options.maxResumeAttempts ?? 5)) {
          attempts++;
          this.ctx.degraded(`change stream interrupted (${this.scrub(error)}); resuming (attempt ${attempts})`);
          await sleep(this.ctx.clock, backoffDelay(attempts, this.options.resumeBackoff ?? { initialMs: 250, maxMs: 5000 }), this.ctx.signal).catch(() => undefined);
          continue;
        }
        if (kind === 'history-lost' && (await this.historyLost())) continue;
        if (kind !== 'history-lost') this.fail(error, kind === 'fatal');
        return;
      } finally {
        await cursor.close().catch(() => undefined);
      }
    }
  }

  private open(): ChangeCursor {
    const { params } = this.options;
    const options: WatchOptions = { pipeline: this.pipeline };
    if (this.durable) options.startAfter = parseToken(this.durable.token);
    if (params.fullDocument !== 'default') options.fullDocument = params.fullDocument;
    if (params.fullDocumentBeforeChange !== 'off') options.fullDocumentBeforeChange = params.fullDocumentBeforeChange;
    this.current = this.options.source.watch(options);
    return this.current;
  }

  /** Fires one change if it is wanted; true once the stream has ended (invalidated). */
  private async handle(change: ChangeDocument): Promise<boolean> {
    const time = changeTime(change);
    if (change.operationType === 'invalidate') {
      // Keep the invalidate's token: once the feed is re-enabled it starts after it.
      this.advance(change._id, time);
      await this.checkpoint();
      const why = this.endReason ?? 'the watched collection or database was dropped or renamed';
      this.ctx.fail(new FeedError(`the change stream was invalidated: ${why}`, { retryable: false }));
      return true;
    }
    this.endReason = endOfStreamReason(change) ?? this.endReason;
    if ((this.options.params.operationTypes as readonly string[]).includes(change.operationType)) {
      const subject = namespaceOf(change);
      await this.ctx.fire(changeData(change), { id: eventIdOf(change._id), ...(time ? { time } : {}), ...(subject ? { subject } : {}) });
    }
    this.advance(change._id, time);
    return false;
  }

  /** No change within the server's wait: its post-batch token moves past oplog entries of no interest. */
  private idle(token: ResumeToken | null | undefined): void {
    if (token) this.advance(token, undefined);
  }

  /**
   * The stored resume point is gone from the oplog. `disable`: stop, saying so. `restart`: fire a
   * gap event (its id derives from the lost token, so a repeat of this path fires it once) and
   * go on from now. True when the feed goes on.
   */
  private async historyLost(): Promise<boolean> {
    const lost = this.durable;
    const after = lost?.time ? ` (the last change fired happened at ${lost.time})` : '';
    if (this.options.params.onHistoryLost === 'disable' || !lost) {
      this.ctx.fail(
        new FeedError(
          `the stored resume point is no longer in the oplog${after}, so the changes after it cannot be replayed; ` +
            'the feed stopped rather than skip them. To go on from now, update the feed with onHistoryLost=restart ' +
            '(it fires a gap event saying what was skipped); to ride out longer outages, give the oplog a longer window',
          { retryable: false },
        ),
      );
      return false;
    }
    const now = new Date(this.ctx.clock.now());
    await this.ctx.fire(
      {
        operationType: 'gap',
        reason: 'the resume point fell off the oplog: changes between skippedAfter and resumedAt were not delivered',
        skippedAfter: lost.time ?? null,
        resumedAt: now.toISOString(),
      },
      { id: deterministicId('mongodb-gap', lost.token), type: GAP_EVENT_TYPE, time: now },
    );
    this.ctx.log.warn({ skippedAfter: lost.time ?? null }, 'resume point lost; continuing from now after a gap event');
    this.durable = undefined;
    return true;
  }

  private advance(token: ResumeToken, time: Date | undefined): void {
    const text = serializeToken(token);
    if (this.durable?.token === text) return;
    const next: MongoCursor = { token: text };
    const when = time?.toISOString() ?? this.durable?.time;
    if (when) next.time = when;
    this.durable = next;
    if (!this.checkpointTimer && !this.stopped) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        this.checkpointing = this.checkpoint().catch((error) => this.fail(error, false));
      }, this.options.checkpointIntervalMs ?? 100);
    }
  }

  private async checkpoint(): Promise<void> {
    const current = this.durable;
    if (!current || current.token === this.stored) return;
    await this.ctx.cursor.set<MongoCursor>(current);
    this.stored = current.token;
  }

  private fail(error: unknown, fatal: boolean): void {
    if (this.stopped) return;
    const reason = fatal ? fatalReason(error) : undefined;
    const message = this.scrub(error);
    this.ctx.fail(new FeedError(reason ? `${reason}: ${message}` : message, { retryable: !fatal }));
  }

  private scrub(error: unknown): string {
    return scrubbedError(error, this.options.params.uri).message;
  }
}
