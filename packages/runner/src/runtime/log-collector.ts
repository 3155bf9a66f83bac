import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LOG_SENTINEL, Messages } from './messages.js';

type StreamName = 'stdout' | 'stderr';

interface Segment {
  lines: string[];
  bytes: number;
  truncated: boolean;
}

/** Output after this many unclaimed sentinels is folded into the last segment (an action printing sentinels). */
const MAX_SEGMENTS = 4;

/**
 * Reads a container's stdout and stderr for its whole life and cuts them into activations at
 * the sentinel lines the proxy prints after each run. Each activation's log is capped while it
 * is read: past the limit, lines are dropped (only scanned for the sentinel), so an action that
 * prints 20 MB costs no more memory than its limit, and the pipes never back up.
 *
 * Lines are stamped when read: `2024-05-02T17:14:05.123Z stdout: hello`.
 */
export class ContainerLogCollector {
  private readonly segments: Segment[] = [newSegment()];
  /** Index of the segment each stream writes to: how many sentinels it has shown since the last collect. */
  private readonly position: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly ended: Record<StreamName, boolean> = { stdout: false, stderr: false };
  private readonly changeListeners = new Set<() => void>();
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
      (text, overflow) => this.addLine(name, text, overflow),
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
 * Splits one stream into lines and spots the sentinel anywhere in a line (text before it on
 * the same line is still a log line). A line longer than the limit is not kept: only its tail
 * is, to find a sentinel that ends it.
 */
class LineReader {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** The current line has outgrown the limit; `partial` holds only its tail. */
  private overflow = false;

  constructor(
    private readonly maxLineChars: () => number,
    private readonly onLine: (text: string, overflow: boolean) => void,
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
    this.partial = '';
    this.overflow = false;
    this.emit(text, overflow);
  }

  private emit(text: string, overflow: boolean): void {
    const at = text.indexOf(LOG_SENTINEL);
    if (at < 0) {
      this.onLine(text, overflow || text.length > this.maxLineChars());
      return;
    }
    if (at > 0 || overflow) this.onLine(text.slice(0, at), overflow);
    this.onSentinel();
    const rest = text.slice(at + LOG_SENTINEL.length);
    if (rest.length > 0) this.emit(rest, false);
  }

  private appendPartial(piece: string): void {
    this.partial += piece;
    if (!this.overflow && this.partial.length <= this.maxLineChars() + LOG_SENTINEL.length) return;
    const at = this.partial.indexOf(LOG_SENTINEL);
    if (at >= 0) {
      const end = at + LOG_SENTINEL.length;
      const head = this.partial.slice(0, end);
      const rest = this.partial.slice(end);
      const overflow = this.overflow || at > this.maxLineChars();
      this.partial = '';
      this.overflow = false;
      this.emit(head, overflow);
      if (rest.length > 0) this.appendPartial(rest);
      return;
    }
    this.overflow = true;
    this.partial = this.partial.slice(-(LOG_SENTINEL.length - 1));
  }
}
