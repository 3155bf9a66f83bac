/**
 * How many partitions the feeds are hashed into. Ownership is leased per partition, so this is
 * both the most hosts that can share the feeds and the grain of the balance: 64 splits evenly
 * enough for up to 16 hosts (22/21/21 with three), while the whole cluster renews at most 64
 * leases per period, whatever the number of feeds. It is fixed: every host must agree on it, and
 * changing it moves every feed.
 */
export const FEED_PARTITIONS = 64;

/** The partition of a feed: FNV-1a of its id, so every host computes the same one without asking. */
export function partitionOf(feedId: string, partitions = FEED_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < feedId.length; i++) {
    hash ^= feedId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
