/**
 * The lines of the embedded bus's log. Each sets a piece of state (never increments one), so
 * that replaying a record over a state that already holds it changes nothing.
 */
export type BusRecord =
  /** A message stored in stream `s` at sequence `q`, published at `ts` with msgId `i`. */
  | { t: 'msg'; s: string; q: number; j: string; d: string; h?: Record<string, string>; i?: string; ts: number }
  /** Message `q` left stream `s` (acked on a work queue, or too old). */
  | { t: 'rm'; s: string; q: number }
  /** A msgId still inside the duplicate window. */
  | { t: 'dup'; s: string; i: string; q: number; ts: number }
  /** The last sequence stream `s` handed out, so that sequences never go back. */
  | { t: 'seq'; s: string; q: number }
  /** Durable consumer `n` on stream `s` with filter `f` and ack wait `w` ms. */
  | { t: 'con'; n: string; s: string; f: string; w: number }
  /** Consumer `n` has looked at every message up to sequence `q`. */
  | { t: 'pos'; n: string; q: number }
  /** Consumer `n` delivered message `q` for the `c`-th time and awaits its ack. */
  | { t: 'dlv'; n: string; q: number; c: number }
  /** Consumer `n` is done with message `q` (acked or terminated). */
  | { t: 'ack'; n: string; q: number };
