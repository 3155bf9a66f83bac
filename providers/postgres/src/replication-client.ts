import pg from 'pg';
import { formatLsn, type Lsn } from './lsn.js';

export interface ReplicationHandlers {
  /** One pgoutput message (the payload of an XLogData message), in server order. */
  onData(payload: Buffer): void;
  /**
   * A keepalive: the server has sent everything up to `walEnd`; with `replyRequested` it wants
   * a status update now, or it will drop the connection after `wal_sender_timeout`.
   */
  onKeepalive(walEnd: Lsn, replyRequested: boolean): void;
  /** The stream ended or broke while it was supposed to run. */
  onError(error: Error): void;
}

export interface ReplicationStart {
  connection: string;
  slot: string;
  publication: string;
  /** Transactions that committed before this LSN are skipped (the server also skips those before the slot's confirmed LSN). */
  startLsn: Lsn;
}

/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/**
 * A logical replication connection speaking the streaming replication protocol over `pg`'s
 * client: `START_REPLICATION … LOGICAL` with pgoutput, CopyData frames in, standby status
 * updates out. It never confirms an LSN by itself: the feed calls `confirm` once the changes up
 * to that LSN are durable.
 */
export class ReplicationClient {
  private closing = false;
  private streaming = false;
  private firstError: Error | undefined;

  private constructor(
    private readonly client: pg.Client,
    private readonly connection: pg.Connection & { sendCopyFromChunk(chunk: Buffer): void },
    private readonly handlers: ReplicationHandlers,
  ) {}

  /** Connects and starts streaming; rejects when the server refuses (unknown slot, slot in use, …). */
  static async start(options: ReplicationStart, handlers: ReplicationHandlers): Promise<ReplicationClient> {
    const config = { connectionString: options.connection, replication: 'database', connectionTimeoutMillis: 10_000 };
    const client = new pg.Client(config as pg.ClientConfig);
    const replication = new ReplicationClient(client, client.connection as ReplicationClient['connection'], handlers);
    client.on('error', (error) => replication.fail(error));
    try {
      await client.connect();
    } catch (error) {
      await replication.close();
      throw error;
    }
    client.connection.on('copyData', ({ chunk }: { chunk: Buffer }) => replication.receive(chunk));
    const sql =
      `START_REPLICATION SLOT ${pg.escapeIdentifier(options.slot)} LOGICAL ${formatLsn(options.startLsn)} ` +
      `(proto_version '1', publication_names ${pg.escapeLiteral(options.publication)})`;
    const started = new Promise<void>((resolve) => client.connection.once('replicationStart', () => resolve()));
    // The query stays open for as long as the stream runs: it settles only when the stream ends.
    const ended = client.query(sql).then(
      () => replication.fail(new Error('the server ended the replication stream')),
      (error: Error) => replication.fail(error),
    );
    const outcome = await Promise.race([started.then(() => 'started' as const), ended.then(() => 'ended' as const)]);
    if (outcome === 'ended') {
      await replication.close();
      throw replication.firstError ?? new Error('the replication stream did not start');
    }
    replication.streaming = true;
    return replication;
  }

  /** Confirms to the server that everything up to `lsn` is durable: the slot may release that WAL. */
  confirm(lsn: Lsn, replyRequested = false): void {
    if (this.closing) return;
    const message = Buffer.alloc(34);
    message.write('r', 0, 'latin1');
    message.writeBigUInt64BE(lsn, 1); // written
    message.writeBigUInt64BE(lsn, 9); // flushed
    message.writeBigUInt64BE(lsn, 17); // applied
    message.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_MICROS, 25);
    message.writeUInt8(replyRequested ? 1 : 0, 33);
    this.connection.sendCopyFromChunk(message);
  }

  /** Stops reading from the socket (backpressure) until `resume`. */
  pause(): void {
    this.connection.stream.pause();
  }

  resume(): void {
    this.connection.stream.resume();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.client.end().catch(() => undefined);
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    try {
      const type = String.fromCharCode(chunk[0] ?? 0);
      if (type === 'w') {
        // XLogData: start LSN, WAL end, send time, then the pgoutput message.
        this.handlers.onData(chunk.subarray(25));
      } else if (type === 'k') {
        this.handlers.onKeepalive(chunk.readBigUInt64BE(1), chunk.readUInt8(17) === 1);
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Before streaming starts an error is the start's to report; after, the feed's. */
  private fail(error: Error): void {
    if (this.closing) return;
    this.firstError ??= error;
    if (this.streaming) this.handlers.onError(error);
  }
}
