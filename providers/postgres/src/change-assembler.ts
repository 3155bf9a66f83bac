import { formatLsn, type Lsn } from './lsn.js';
import type { PgoutputMessage, RelationInfo } from './pgoutput-decoder.js';
import { rowOf, type Row } from './row-values.js';

export type Operation = 'insert' | 'update' | 'delete' | 'truncate';

/** The `data` of a `postgres/changes` event. */
export interface PgChange {
  operation: Operation;
  schema: string;
  table: string;
  /** The row after an insert or update. */
  new?: Row;
  /**
   * The row before an update or delete: every column when the table's replica identity is FULL,
   * only the key columns otherwise (then `oldKeyOnly` is true). PostgreSQL sends no old row for
   * an update that left the key unchanged unless the identity is FULL.
   */
  old?: Row;
  oldKeyOnly?: boolean;
  /** Columns of `new` left out because their (TOASTed) value did not change. */
  unchangedColumns?: string[];
  /** For a truncate: whether it was `CASCADE` and `RESTART IDENTITY`. */
  cascade?: boolean;
  restartIdentity?: boolean;
  /** The transaction's commit LSN, its id and its commit time. */
  lsn: string;
  xid: number;
  commitTime: string;
}

/** What the feed does next: fire one change, or record that a transaction is complete. */
export type ChangeStep =
  | { kind: 'change'; id: string; change: PgChange }
  /** Everything up to `lsn` has been handed over; once it is durable, `lsn` may be confirmed. */
  | { kind: 'checkpoint'; lsn: Lsn };

interface OpenTransaction {
  finalLsn: Lsn;
  commitTime: Date;
  xid: number;
  /** Position of the next change within the transaction. */
  position: number;
}

/**
 * Turns pgoutput messages into change events, in the order PostgreSQL sends them (commit order,
 * and within a transaction the order of the changes). Each event's id is the commit LSN and the
 * change's position in its transaction, so a transaction replayed after a crash yields the same
 * ids and the bus absorbs the repeats.
 */
export class ChangeAssembler {
  private readonly relations = new Map<number, RelationInfo>();
  private open: OpenTransaction | undefined;

  get inTransaction(): boolean {
    return this.open !== undefined;
  }

  push(message: PgoutputMessage): ChangeStep[] {
    switch (message.tag) {
      case 'relation':
        this.relations.set(message.relation.id, message.relation);
        return [];
      case 'begin':
        this.open = { finalLsn: message.finalLsn, commitTime: message.commitTime, xid: message.xid, position: 0 };
        return [];
      case 'commit':
        this.open = undefined;
        return [{ kind: 'checkpoint', lsn: message.endLsn }];
      case 'insert': {
        const relation = this.relation(message.relationId);
        const image = rowOf(relation.columns, message.new);
        return [this.change(relation, { operation: 'insert', new: image.row })];
      }
      case 'update': {
        const relation = this.relation(message.relationId);
        const image = rowOf(relation.columns, message.new);
        const change: Partial<PgChange> = { operation: 'update', new: image.row };
        if (message.old) {
          change.old = rowOf(relation.columns, message.old, message.oldIsKey).row;
          change.oldKeyOnly = message.oldIsKey;
        }
        if (image.unchanged.length > 0) change.unchangedColumns = image.unchanged;
        return [this.change(relation, change)];
      }
      case 'delete': {
        const relation = this.relation(message.relationId);
        const old = rowOf(relation.columns, message.old, message.oldIsKey).row;
        return [this.change(relation, { operation: 'delete', old, oldKeyOnly: message.oldIsKey })];
      }
      case 'truncate':
        return message.relationIds.map((id) =>
          this.change(this.relation(id), { operation: 'truncate', cascade: message.cascade, restartIdentity: message.restartIdentity }),
        );
      case 'other':
        return [];
    }
  }

  private relation(id: number): RelationInfo {
    const relation = this.relations.get(id);
    // pgoutput sends a relation before the first change to it on every connection.
    if (!relation) throw new Error(`pgoutput sent a change for relation ${id} before describing it`);
    return relation;
  }

  private change(relation: RelationInfo, fields: Partial<PgChange>): ChangeStep {
    const open = this.open;
    if (!open) throw new Error('pgoutput sent a change outside a transaction');
    const lsn = formatLsn(open.finalLsn);
    const id = `${lsn}:${open.position++}`;
    const change = {
      operation: fields.operation,
      schema: relation.schema,
      table: relation.name,
      ...fields,
      lsn,
      xid: open.xid,
      commitTime: open.commitTime.toISOString(),
    } as PgChange;
    return { kind: 'change', id, change };
  }
}
