import type { Lsn } from './lsn.js';

/**
 * Decodes the messages of PostgreSQL's `pgoutput` logical decoding plugin, protocol version 1
 * ("Logical Replication Message Formats" in the PostgreSQL manual). Pure: bytes in, objects out.
 */
export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTime: Date; xid: number }
  | { tag: 'commit'; commitLsn: Lsn; endLsn: Lsn; commitTime: Date }
  | { tag: 'relation'; relation: RelationInfo }
  | { tag: 'insert'; relationId: number; new: TupleValue[] }
  | { tag: 'update'; relationId: number; old?: TupleValue[]; oldIsKey: boolean; new: TupleValue[] }
  | { tag: 'delete'; relationId: number; old: TupleValue[]; oldIsKey: boolean }
  | { tag: 'truncate'; relationIds: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'other'; code: string };

export interface RelationInfo {
  id: number;
  schema: string;
  name: string;
  /** `d` default (primary key), `n` nothing, `f` full, `i` index. */
  replicaIdentity: string;
  columns: ColumnInfo[];
}

export interface ColumnInfo {
  name: string;
  typeOid: number;
  /** Part of the replica identity (the key sent with updates and deletes). */
  isKey: boolean;
}

/** One column of a row image: its text value, SQL NULL, or a TOASTed value that did not change. */
export type TupleValue = { kind: 'text'; text: string } | { kind: 'null' } | { kind: 'unchanged' };

/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
const PG_EPOCH_MS = 946_684_800_000;

export function pgTimestampToDate(microsSincePgEpoch: bigint): Date {
  return new Date(PG_EPOCH_MS + Number(microsSincePgEpoch / 1000n));
}

export function decodePgoutput(buffer: Buffer): PgoutputMessage {
  const reader = new Reader(buffer);
  const code = String.fromCharCode(reader.uint8());
  switch (code) {
    case 'B':
      return { tag: 'begin', finalLsn: reader.uint64(), commitTime: pgTimestampToDate(reader.int64()), xid: reader.uint32() };
    case 'C': {
      reader.uint8(); // flags, unused
      return { tag: 'commit', commitLsn: reader.uint64(), endLsn: reader.uint64(), commitTime: pgTimestampToDate(reader.int64()) };
    }
    case 'R':
      return { tag: 'relation', relation: readRelation(reader) };
    case 'I': {
      const relationId = reader.uint32();
      reader.expect('N');
      return { tag: 'insert', relationId, new: readTuple(reader) };
    }
    case 'U': {
      const relationId = reader.uint32();
      let marker = String.fromCharCode(reader.uint8());
      let old: TupleValue[] | undefined;
      const oldIsKey = marker === 'K';
      if (marker === 'K' || marker === 'O') {
        old = readTuple(reader);
        marker = String.fromCharCode(reader.uint8());
      }
      if (marker !== 'N') throw new Error(`pgoutput update: expected 'N', got '${marker}'`);
      const message: PgoutputMessage = { tag: 'update', relationId, oldIsKey, new: readTuple(reader) };
      if (old) message.old = old;
      return message;
    }
    case 'D': {
      const relationId = reader.uint32();
      const marker = String.fromCharCode(reader.uint8());
      if (marker !== 'K' && marker !== 'O') throw new Error(`pgoutput delete: expected 'K' or 'O', got '${marker}'`);
      return { tag: 'delete', relationId, oldIsKey: marker === 'K', old: readTuple(reader) };
    }
    case 'T': {
      const count = reader.uint32();
      const options = reader.uint8();
      const relationIds = Array.from({ length: count }, () => reader.uint32());
      return { tag: 'truncate', relationIds, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 };
    }
    default:
      // Origin ('O'), type ('Y') and logical messages ('M') carry nothing a change event needs.
      return { tag: 'other', code };
  }
}

function readRelation(reader: Reader): RelationInfo {
  const id = reader.uint32();
  const schema = reader.cstring();
  const name = reader.cstring();
  const replicaIdentity = String.fromCharCode(reader.uint8());
  const count = reader.uint16();
  const columns: ColumnInfo[] = [];
  for (let i = 0; i < count; i++) {
    const flags = reader.uint8();
    const columnName = reader.cstring();
    const typeOid = reader.uint32();
    reader.uint32(); // type modifier, unused
    columns.push({ name: columnName, typeOid, isKey: (flags & 1) !== 0 });
  }
  return { id, schema, name, replicaIdentity, columns };
}

function readTuple(reader: Reader): TupleValue[] {
  const count = reader.uint16();
  const values: TupleValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = String.fromCharCode(reader.uint8());
    if (kind === 'n') values.push({ kind: 'null' });
    else if (kind === 'u') values.push({ kind: 'unchanged' });
    else if (kind === 't') values.push({ kind: 'text', text: reader.bytes(reader.uint32()).toString('utf8') });
    else throw new Error(`pgoutput tuple: unknown column kind '${kind}'`);
  }
  return values;
}

class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  uint8(): number {
    const value = this.buffer.readUInt8(this.offset);
    this.offset += 1;
    return value;
  }

  uint16(): number {
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  uint32(): number {
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): bigint {
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  int64(): bigint {
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  bytes(length: number): Buffer {
    const value = this.buffer.subarray(this.offset, this.offset + length);
    if (value.length !== length) throw new RangeError('pgoutput message ends inside a value');
    this.offset += length;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new RangeError('pgoutput message ends inside a string');
    const value = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  expect(marker: string): void {
    const got = String.fromCharCode(this.uint8());
    if (got !== marker) throw new Error(`pgoutput: expected '${marker}', got '${got}'`);
  }
}
