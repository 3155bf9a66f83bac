import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LOG_SENTINEL, Messages } from './messages.js';

type StreamName = 'stdout' | 'stderr';

interface Segment {
  lines: string[];
  bytes: number;
  truncated: boolean;
}

/** One of several concurrent activations: its tagged lines, and whether each stream showed its sentinel. */
interface ActivationLog {
  segment: Segment;
  limitBytes: number;
  ended: Record<StreamName, boolean>;
}

/** Output after this many unclaimed sentinels is folded into the last segment (an action printing sentinels). */
const MAX_SEGMENTS = 4;
/** How much of the start of an over-long line is kept: enough for its activation tag. */
const HEAD_CHARS = 128;

/**
 * Reads a container's stdout and stderr for its whole life and cuts them into activations at
 * the sentinel lines the proxy prints after each run. Each activation's log is capped while it
 * is read: past the limit, lines are dropped (only scanned for the sentinel), so an action that
 * prints 20 MB costs no more memory than its limit, and the pipes never back up.
 *
 * Lines are stamped when read: `2024-05-02T17:14:05.123Z stdout: hello`.
 *
 * A container running several activations at once (`limits.concurrency` > 1) cannot be cut at
 * sentinels: there the proxy starts each line an activation prints with its activation id and a
 * space, and ends each activation with `<id> <sentinel>`. Once {@link beginActivation} is called
 * the collector reads that format, giving each activation its own lines and cap; lines of no
 * activation it was told about (printed outside any activation, or after its end) are dropped.
 */
export class ContainerLogCollector {
  private readonly segments: Segment[] = [newSegment()];
  /** Index of the segment each stream writes to: how many sentinels it has shown since the last collect. */
  private readonly position: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly ended: Record<StreamName, boolean> = { stdout: false, stderr: false };
  private readonly changeListeners = new Set<() => void>();
  private readonly activations = new Map<string, ActivationLog>();
  private tagged = false;
  private limitBytes: number;

  constructor(stdout: Readable, stderr: Readable, limitBytes: number) {
    this.limitBytes = limitBytes;
    this.attach('stdout', stdout);
    this.attach('stderr', stderr);
  }

  /** The cap for the activation about to run, in bytes of log text. */
  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
  }

  /** Collects the tagged lines of one of several concurrent activations from now on. */
  beginActivation(activationId: string, limitBytes: number): void {
    this.tagged = true;
    this.limitBytes = limitBytes;
    this.activations.set(activationId, { segment: newSegment(), limitBytes, ended: { stdout: false, stderr: false } });
  }

  /**
   * The log of a concurrent activation that just ended: its lines up to its sentinel on both
   * streams. Waits while output keeps arriving; after `idleMs` without any, gives up and says
   * so in the log, as {@link collect} does.
   */
  async collectActivation(activationId: string, idleMs: number): Promise<string[]> {
    const log = this.activations.get(activationId);
    if (!log) return [];
    let complete = true;
    while (!this.activationEnded(log)) {
      if (!(await this.nextChange(idleMs))) {
        complete = false;
        break;
      }
    }
    const lines = this.finishActivation(activationId, log);
    if (!complete) lines.push(formatLine('stderr', Messages.logFailure));
    return lines;
  }

  /** The lines of a concurrent activation that failed: waits up to `waitMs` for its sentinels (none come after a timeout). */
  async collectActivationRemaining(activationId: string, waitMs: number): Promise<string[]> {
    const log = this.activations.get(activationId);
    if (!log) return [];
    const deadline = Date.now() + waitMs;
    while (!this.activationEnded(log)) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.nextChange(left))) break;
    }
    return this.finishActivation(activationId, log);
  }

  private activationEnded(log: ActivationLog): boolean {
    return (log.ended.stdout || this.ended.stdout) && (log.ended.stderr || this.ended.stderr);
  }

  private finishActivation(activationId: string, log: ActivationLog): string[] {
    this.activations.delete(activationId);
    if (log.segment.truncated) log.segment.lines.push(formatLine('stderr', Messages.truncatedLogs(log.limitBytes)));
    return log.segment.lines;
  }

  /**
   * The log of the activation that just ended: every line up to the sentinel on both streams.
   * Waits while output keeps arriving; after `idleMs` without any, gives up and says so in
   * the log (OpenWhisk's log-collection failure line). Without `waitForSentinels` (a proxy
   * that prints none), everything read so far.
   */
  async collect(idleMs: number, waitForSentinels = true): Promise<string[]> {
    if (!waitForSentinels) return this.collectRemaining(0);
    let complete = true;
    while (!(this.passedFirst('stdout') && this.passedFirst('stderr'))) {
      if (!(await this.nextChange(idleMs))) {
        complete = false;
        break;
      }
    }
    const segment = this.segments.shift() ?? newSegment();
    if (this.segments.length === 0) this.segments.push(newSegment());
    this.position.stdout = Math.max(0, this.position.stdout - 1);
    this.position.stderr = Math.max(0, this.position.stderr - 1);
    const lines = this.finish(segment);
    if (!complete) lines.push(formatLine('stderr', Messages.logFailure));
    return lines;
  }

  /**
   * Everything not yet collected, once the container is gone: waits up to `waitMs` for both
   * streams to end, ignoring sentinels (a failed container may not have printed them).
   */
  async collectRemaining(waitMs: number): Promise<string[]> {
    const deadline = Date.now() + waitMs;
    while (!(this.ended.stdout && this.ended.stderr)) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.nextChange(left))) break;
    }
    const merged = newSegment();
    for (const segment of this.segments.splice(0)) {
      for (const line of segment.lines) {
        const bytes = Buffer.byteLength(line);
        if (merged.truncated || merged.bytes + bytes > this.limitBytes) merged.truncated = true;
        else {
          merged.lines.push(line);
          merged.bytes += bytes;
        }
      }
      merged.truncated ||= segment.truncated;
    }
    this.segments.push(newSegment());
    this.position.stdout = 0;
    this.position.stderr = 0;
    return this.finish(merged);
  }

  private finish(segment: Segment): string[] {
    if (segment.truncated) segment.lines.push(formatLine('stderr', Messages.truncatedLogs(this.limitBytes)));
    return segment.lines;
  }

  private passedFirst(stream: StreamName): boolean {
    return this.position[stream] > 0 || this.ended[stream];
  }

  /** Resolves true on new output, a sentinel or an end; false after `ms` of silence. */
  private nextChange(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        this.changeListeners.delete(listener);
        resolve(changed);
      };
      const listener = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.changeListeners.add(listener);
    });
  }

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  private attach(name: StreamName, stream: Readable): void {
    const lines = new LineReader(
      () => this.limitBytes,
      () => !this.tagged,
      (text, overflow, head) => (this.tagged ? this.addTaggedLine(name, text, overflow, head) : this.addLine(name, text, overflow)),
      () => {
        if (this.position[name] < MAX_SEGMENTS - 1) this.position[name]++;
        while (this.segments.length <= this.position[name]) this.segments.push(newSegment());
      },
    );
    stream.on('data', (chunk: Buffer | string) => {
      lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.changed();
    });
    const end = () => {
      if (this.ended[name]) return;
      lines.end();
      this.ended[name] = true;
      this.changed();
    };
    stream.once('end', end);
    stream.once('close', end);
    // A broken pipe ends the stream; nothing else to do with it.
    stream.on('error', end);
  }

  /** `<activation id> <text>`; `<activation id> <sentinel>` ends that activation's stream. */
  private addTaggedLine(stream: StreamName, text: string, overflow: boolean, head: string): void {
    const start = overflow ? head : text;
    const space = start.indexOf(' ');
    const log = space > 0 ? this.activations.get(start.slice(0, space)) : undefined;
    if (!log) return;
    const body = text.slice(space + 1);
    if (!overflow && body === LOG_SENTINEL) {
      log.ended[stream] = true;
      return;
    }
    const { segment } = log;
    if (segment.truncated) return;
    const bytes = Buffer.byteLength(body);
    if (overflow || segment.bytes + bytes > log.limitBytes) {
      segment.truncated = true;
      return;
    }
    segment.bytes += bytes;
    segment.lines.push(formatLine(stream, body));
  }

  private addLine(stream: StreamName, text: string, overflow: boolean): void {
    const segment = this.segments[this.position[stream]] ?? this.segments[this.segments.length - 1]!;
    if (segment.truncated) return;
    const bytes = Buffer.byteLength(text);
    if (overflow || segment.bytes + bytes > this.limitBytes) {
      segment.truncated = true;
      return;
    }
    segment.bytes += bytes;
    segment.lines.push(formatLine(stream, text));
  }
}

function newSegment(): Segment {
  return { lines: [], bytes: 0, truncated: false };
}

function formatLine(stream: StreamName, text: string): string {
  return `${new Date().toISOString()} ${stream}: ${text}`;
}

/**
 * Splits one stream into lines and, unless told otherwise (tagged output), spots the sentinel
 * anywhere in a line (text before it on the same line is still a log line). A line longer than
 * the limit is not kept: only its head is, for its tag, and its tail, to find a sentinel that
 * ends it.
 */
class LineReader {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** The current line has outgrown the limit; `partial` holds only its tail. */
  private overflow = false;
  /** The start of an over-long line. */
  private head = '';

  constructor(
    private readonly maxLineChars: () => number,
    private readonly splitSentinels: () => boolean,
    private readonly onLine: (text: string, overflow: boolean, head: string) => void,
    private readonly onSentinel: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.consume(this.decoder.write(chunk));
  }

  end(): void {
    this.consume(this.decoder.end());
    if (this.partial.length > 0 || this.overflow) this.completeLine('');
  }

  private consume(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n', start); newline >= 0; newline = text.indexOf('\n', start)) {
      this.completeLine(text.slice(start, newline));
      start = newline + 1;
    }
    if (start < text.length) this.appendPartial(text.slice(start));
  }

  private completeLine(piece: string): void {
    const text = this.partial + piece;
    const overflow = this.overflow;
    const head = overflow ? this.head : text.slice(0, HEAD_CHARS);
    this.partial = '';
    this.overflow = false;
    this.head = '';
    this.emit(text, overflow, head);
  }

  private emit(text: string, overflow: boolean, head: string): void {
    const at = this.splitSentinels() ? text.indexOf(LOG_SENTINEL) : -1;
    if (at < 0) {
      this.onLine(text, overflow || text.length > this.maxLineChars(), head);
      return;
    }
    if (at > 0 || overflow) this.onLine(text.slice(0, at), overflow, head);
    this.onSentinel();
    const rest = text.slice(at + LOG_SENTINEL.length);
    if (rest.length > 0) this.emit(rest, false, rest.slice(0, HEAD_CHARS));
  }

  private appendPartial(piece: string): void {
    this.partial += piece;
    if (!this.overflow && this.partial.length <= this.maxLineChars() + LOG_SENTINEL.length) return;
    const at = this.splitSentinels() ? this.partial.indexOf(LOG_SENTINEL) : -1;
    if (at >= 0) {
      const end = at + LOG_SENTINEL.length;
      const head = this.partial.slice(0, end);
      const rest = this.partial.slice(end);
      const overflow = this.overflow || at > this.maxLineChars();
      const start = this.overflow ? this.head : head.slice(0, HEAD_CHARS);
      this.partial = '';
      this.overflow = false;
      this.head = '';
      this.emit(head, overflow, start);
      if (rest.length > 0) this.appendPartial(rest);
      return;
    }
    if (!this.overflow) this.head = this.partial.slice(0, HEAD_CHARS);
    this.overflow = true;
    this.partial = this.partial.slice(-(LOG_SENTINEL.length - 1));
  }
}
