/** The part of a pool's capacity each action revision with work may hold. */
export interface FairShare {
  /** A revision holding `count` containers of `memoryMb` each may take one more. */
  allowsOneMore(count: number, memoryMb: number): boolean;
  /** A revision holding `count` containers of `memoryMb` each holds more than its part. */
  exceeded(count: number, memoryMb: number): boolean;
  /** Containers of `memoryMb` cannot give each revision with work one. */
  crowded(memoryMb: number): boolean;
}

/**
 * Equal parts of the memory and of the container count for `active` revisions (those with
 * runs waiting or in flight). With no active revision, one revision may have it all.
 */
export function fairShare(capacityMemoryMb: number, maxContainers: number, active: number): FairShare {
  const parts = Math.max(1, active);
  const memoryMb = capacityMemoryMb / parts;
  const containers = maxContainers / parts;
  return {
    allowsOneMore: (count, each) => (count + 1) * each <= memoryMb && count + 1 <= containers,
    exceeded: (count, each) => count * each > memoryMb || count > containers,
    crowded: (each) => each > memoryMb || containers < 1,
  };
}
