import { describe, expect, it } from '@jest/globals';
import { ChangeAssembler, type ChangeStep } from './change-assembler.js';
import { formatLsn, parseLsn } from './lsn.js';
import { decodePgoutput } from './pgoutput-decoder.js';
import { frames } from './testing/pgoutput-frames.js';

// Unit tests over pgoutput frames built by hand; the integration suite checks the same against
// a real server.
const INT4 = 23;
const TEXT = 25;
const JSONB = 3802;
const INT8 = 20;
const at = new Date('2026-03-01T12:00:00.123Z');

const ordersRelation = frames.relation(16400, 'shop', 'orders', 'd', [
  { name: 'id', typeOid: INT4, key: true },
  { name: 'note', typeOid: TEXT },
  { name: 'meta', typeOid: JSONB },
  { name: 'total', typeOid: INT8 },
]);

function run(assembler: ChangeAssembler, ...buffers: Buffer[]): ChangeStep[] {
  return buffers.flatMap((buffer) => assembler.push(decodePgoutput(buffer)));
}

describe('LSN text form', () => {
  it('round-trips and orders like the server does', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(parseLsn('0/10') < parseLsn('1/0')).toBe(true);
    expect(() => parseLsn('nope')).toThrow(/not a PostgreSQL LSN/);
  });
});

describe('ChangeAssembler', () => {
  it('turns one transaction into changes with ids from the commit LSN and position, then a checkpoint at its end', () => {
    const assembler = new ChangeAssembler();
    const steps = run(
      assembler,
      frames.begin(0x1a2bn, at, 901),
      ordersRelation,
      frames.insert(16400, ['1', 'first', '{"vip":true}', '9007199254740993']),
      frames.update(16400, ['1', 'second', null, '5']),
      frames.delete(16400, 'K', ['1', null, null, null]),
      frames.commit(0x1a2bn, 0x1a40n, at),
    );
    expect(steps.map((s) => (s.kind === 'change' ? s.id : `checkpoint ${formatLsn(s.lsn)}`))).toEqual([
      '0/1A2B:0',
      '0/1A2B:1',
      '0/1A2B:2',
      'checkpoint 0/1A40',
    ]);
    const [insert, update, del] = steps.flatMap((s) => (s.kind === 'change' ? [s.change] : []));
    expect(insert).toEqual({
      operation: 'insert',
      schema: 'shop',
      table: 'orders',
      new: { id: 1, note: 'first', meta: { vip: true }, total: '9007199254740993' },
      lsn: '0/1A2B',
      xid: 901,
      commitTime: '2026-03-01T12:00:00.123Z',
    });
    expect(update).toMatchObject({ operation: 'update', new: { id: 1, note: 'second', meta: null, total: '5' } });
    expect(update).not.toHaveProperty('old');
    expect(del).toMatchObject({ operation: 'delete', old: { id: 1 }, oldKeyOnly: true });
    expect(assembler.inTransaction).toBe(false);
  });

  it('carries the whole old row under REPLICA IDENTITY FULL, and names unchanged TOASTed columns', () => {
    const assembler = new ChangeAssembler();
    const [update] = run(
      assembler,
      frames.begin(0x50n, at, 7),
      ordersRelation,
      frames.update(16400, ['2', { unchanged: true }, null, '8'], { kind: 'O', values: ['2', { unchanged: true }, null, '7'] }),
    );
    expect(update).toMatchObject({
      kind: 'change',
      change: { operation: 'update', new: { id: 2, meta: null, total: '8' }, old: { id: 2, meta: null, total: '7' }, oldKeyOnly: false, unchangedColumns: ['note'] },
    });
    expect(assembler.inTransaction).toBe(true);
  });

  it('fires one truncate change per table, with its options', () => {
    const assembler = new ChangeAssembler();
    const steps = run(
      assembler,
      frames.begin(0x60n, at, 8),
      ordersRelation,
      frames.relation(16401, 'shop', 'payments', 'f', [{ name: 'id', typeOid: INT4 }]),
      frames.truncate([16400, 16401], 3),
    );
    expect(steps).toMatchObject([
      { id: '0/60:0', change: { operation: 'truncate', table: 'orders', cascade: true, restartIdentity: true } },
      { id: '0/60:1', change: { operation: 'truncate', table: 'payments' } },
    ]);
  });

  it('ignores origin messages and refuses a change to a relation it was never told about', () => {
    const assembler = new ChangeAssembler();
    expect(run(assembler, frames.begin(0x70n, at, 9), frames.origin(0x70n, 'upstream'))).toEqual([]);
    expect(() => run(assembler, frames.insert(99, ['1']))).toThrow(/relation 99 before describing it/);
  });
});
