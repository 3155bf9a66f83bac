/**
 * Builds pgoutput protocol v1 messages as PostgreSQL sends them, for unit tests of the decoder
 * and the change stream. (The integration tests use a real server.)
 */
const PG_EPOCH_MS = 946_684_800_000;

function micros(date: Date): bigint {
  return BigInt(date.getTime() - PG_EPOCH_MS) * 1000n;
}

class Writer {
  private readonly parts: Buffer[] = [];
  char(c: string): this {
    this.parts.push(Buffer.from(c, 'latin1'));
    return this;
  }
  u8(n: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    this.parts.push(b);
    return this;
  }
  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.parts.push(b);
    return this;
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.parts.push(b);
    return this;
  }
  u64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }
  cstring(s: string): this {
    this.parts.push(Buffer.from(`${s}\0`, 'utf8'));
    return this;
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export type FrameValue = string | null | { unchanged: true };

export const frames = {
  begin(finalLsn: bigint, commitTime: Date, xid: number): Buffer {
    return new Writer().char('B').u64(finalLsn).u64(micros(commitTime)).u32(xid).done();
  },
  commit(commitLsn: bigint, endLsn: bigint, commitTime: Date): Buffer {
    return new Writer().char('C').u8(0).u64(commitLsn).u64(endLsn).u64(micros(commitTime)).done();
  },
  relation(id: number, schema: string, name: string, identity: string, columns: Array<{ name: string; typeOid: number; key?: boolean }>): Buffer {
    const w = new Writer().char('R').u32(id).cstring(schema).cstring(name).char(identity).u16(columns.length);
    for (const c of columns) w.u8(c.key ? 1 : 0).cstring(c.name).u32(c.typeOid).u32(0xffffffff);
    return w.done();
  },
  insert(relationId: number, values: FrameValue[]): Buffer {
    return tuple(new Writer().char('I').u32(relationId).char('N'), values).done();
  },
  update(relationId: number, values: FrameValue[], old?: { kind: 'K' | 'O'; values: FrameValue[] }): Buffer {
    const w = new Writer().char('U').u32(relationId);
    if (old) tuple(w.char(old.kind), old.values);
    return tuple(w.char('N'), values).done();
  },
  delete(relationId: number, kind: 'K' | 'O', values: FrameValue[]): Buffer {
    return tuple(new Writer().char('D').u32(relationId).char(kind), values).done();
  },
  truncate(relationIds: number[], options = 0): Buffer {
    const w = new Writer().char('T').u32(relationIds.length).u8(options);
    for (const id of relationIds) w.u32(id);
    return w.done();
  },
  origin(lsn: bigint, name: string): Buffer {
    return new Writer().char('O').u64(lsn).cstring(name).done();
  },
};

function tuple(w: Writer, values: FrameValue[]): Writer {
  w.u16(values.length);
  for (const v of values) {
    if (v === null) w.char('n');
    else if (typeof v === 'object') w.char('u');
    else {
      const b = Buffer.from(v, 'utf8');
      w.char('t').u32(b.length).bytes(b);
    }
  }
  return w;
}
