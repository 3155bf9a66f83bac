/** A time partition's range of start times: `from` inclusive, `to` exclusive (epoch ms). */
export interface PartitionBounds {
  from: number;
  to: number;
}

/**
 * The partitions of width `partitionMs` (aligned on the epoch, so on UTC days and hours) that
 * cover [from, to] and are not already covered by `existing`.
 */
export function partitionsToCreate(from: number, to: number, partitionMs: number, existing: readonly PartitionBounds[]): PartitionBounds[] {
  const out: PartitionBounds[] = [];
  for (let start = Math.floor(from / partitionMs) * partitionMs; start <= to; start += partitionMs) {
    const bounds = { from: start, to: start + partitionMs };
    if (!existing.some((other) => other.from < bounds.to && bounds.from < other.to)) out.push(bounds);
  }
  return out;
}

/** `<table>_p20261204t00`: the UTC day and hour a partition starts, readable in `\d+`. */
export function partitionName(table: string, from: number): string {
  const iso = new Date(from).toISOString();
  return `${table}_p${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}t${iso.slice(11, 13)}`;
}
