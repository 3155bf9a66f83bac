/**
 * better-sqlite3 copies each blob into a Buffer of its own (not Node's shared pool), so a view
 * of it is a message's own data, without a second copy.
 */
export function ownBytes(blob: Buffer): Uint8Array {
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
}
