import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { eventually } from '@kindling/test-support';

/**
 * A Mosquitto of the test's own, on a free loopback port, with a configuration made for bursts:
 * no limit on queued or in-flight messages (Mosquitto's default drops a persistent subscriber's
 * messages past 1000 queued ones), no persistence to disk, `$SYS` topics every second.
 */
export interface OwnMosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`), sessions forgotten: persistence is off. */
  start(): Promise<void>;
  /** Clients connected, as the broker counts them (`$SYS/broker/clients/connected`). */
  connectedClients(): Promise<number>;
  cleanup(): Promise<void>;
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function mosquittoInstalled(): boolean {
  return spawnSync(MOSQUITTO, ['-h']).status !== null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, open: boolean, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await portOpen(port)) === open, `mosquitto on port ${port} to ${open ? 'start' : 'stop'}`, timeoutMs, { intervalMs: 25 });
}

export async function startOwnMosquitto(options: { users?: Record<string, string> } = {}): Promise<OwnMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-mosquitto-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'max_queued_messages 0',
    'max_inflight_messages 0',
    'sys_interval 1',
    'log_dest none',
  ];
  if (options.users) {
    const passwordFile = join(dir, 'passwords');
    writeFileSync(passwordFile, '');
    for (const [user, password] of Object.entries(options.users)) {
      const result = spawnSync('mosquitto_passwd', ['-b', passwordFile, user, password]);
      if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
    }
    // Started as root, Mosquitto reads the file after switching to its own user.
    chmodSync(dir, 0o755);
    chmodSync(passwordFile, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(MOSQUITTO, ['-c', config], { stdio: 'ignore' });
    await waitForPort(port, true);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
    await waitForPort(port, false);
  };
  await start();
  const url = `mqtt://127.0.0.1:${port}`;
  return {
    port,
    url,
    start,
    stop,
    async connectedClients() {
      const probe = await mqtt.connectAsync(url, { clientId: `probe-${Math.random().toString(16).slice(2, 10)}`, ...(options.users ? firstUser(options.users) : {}) });
      try {
        // The retained value may predate the probe; the broker publishes the count again within
        // a second of it changing, which the probe's own connection does.
        const count = await new Promise<number>((resolve) => {
          let retained: number | undefined;
          const timer = setTimeout(() => resolve(retained ?? Number.NaN), 3000);
          probe.on('message', (_topic, payload, packet) => {
            const value = Number(payload.toString());
            if (packet.retain) {
              retained = value;
              return;
            }
            clearTimeout(timer);
            resolve(value);
          });
          void probe.subscribeAsync('$SYS/broker/clients/connected');
        });
        return count - 1; // the probe itself
      } finally {
        await probe.endAsync(true);
      }
    },
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function firstUser(users: Record<string, string>): { username: string; password: string } {
  const [username, password] = Object.entries(users)[0] as [string, string];
  return { username, password };
}
