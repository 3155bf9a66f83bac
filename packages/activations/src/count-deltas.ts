/** Changes to the counter rows of (namespace, name, status), summed over a group of writes or deletes. */
export class CountDeltas {
  private readonly deltas = new Map<string, { namespace: string; name: string; status: number; n: number }>();

  add(row: { namespace: string; name: string; status: number }, n: number): void {
    const key = `${row.namespace}\u0000${row.name}\u0000${row.status}`;
    const delta = this.deltas.get(key);
    if (delta) delta.n += n;
    else this.deltas.set(key, { namespace: row.namespace, name: row.name, status: row.status, n });
  }

  /** The non-zero changes, in one order (namespace, name, status), so that writers take row locks alike. */
  changes(): Array<{ namespace: string; name: string; status: number; n: number }> {
    return [...this.deltas.values()]
      .filter((delta) => delta.n !== 0)
      .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : a.status - b.status));
  }
}
