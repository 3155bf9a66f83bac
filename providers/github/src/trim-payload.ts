/**
 * GitHub sends payloads of up to 25 MB; a trigger event must fit one bus message (1 MiB by
 * default). A delivery too large for the bus is not refused: its event keeps the fields that say
 * what happened and where, drops the largest others (a push's `commits`, say), and names them in
 * `kindlingTruncated`, so that an action can fetch them from the GitHub API.
 */
export const TRIMMED_PAYLOAD_BUDGET_BYTES = 512 * 1024;

/** Fields that identify the event; never dropped. */
const KEPT_FIELDS = new Set(['action', 'repository', 'organization', 'sender', 'installation', 'enterprise', 'ref', 'before', 'after', 'number']);

export interface TruncationNote {
  /** The top-level fields left out, largest first. */
  omitted: string[];
  /** Size of the delivery's body. */
  deliveryBytes: number;
  reason: string;
}

export type TrimmedPayload = Record<string, unknown> & { kindlingTruncated: TruncationNote };

/** The payload without its largest fields, within `budgetBytes` of JSON; undefined if even that does not fit. */
export function trimPayload(payload: Record<string, unknown>, deliveryBytes: number, budgetBytes = TRIMMED_PAYLOAD_BUDGET_BYTES): TrimmedPayload | undefined {
  const sizes = Object.entries(payload).map(([key, value]) => ({ key, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') + key.length + 4 }));
  let total = sizes.reduce((sum, field) => sum + field.bytes, 2);
  const kept: Record<string, unknown> = { ...payload };
  const omitted: string[] = [];
  for (const field of [...sizes].sort((a, b) => b.bytes - a.bytes)) {
    if (total <= budgetBytes) break;
    if (KEPT_FIELDS.has(field.key)) continue;
    delete kept[field.key];
    omitted.push(field.key);
    total -= field.bytes;
  }
  if (total > budgetBytes) return undefined;
  return {
    ...kept,
    kindlingTruncated: {
      omitted,
      deliveryBytes,
      reason: 'the delivery is larger than a trigger event can be; the largest fields were left out (fetch them from the GitHub API)',
    },
  };
}
