import { Aedes } from 'aedes';
import { createServer, type Server } from 'node:net';
import { KindlingError, messageOf, type Logger } from '@kindling/core';

export interface EmbeddedBrokerOptions {
  /** TCP port to listen on; 0 picks a free one (the chosen port is in the result). */
  port: number;
  /** Interface to listen on. Loopback by default: a device on the LAN needs an explicit `0.0.0.0`. */
  host?: string;
  log: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly host: string;
  /** `mqtt://<host>:<port>`, what a feed's `url` parameter points at. */
  readonly url: string;
  /** MQTT clients connected right now. */
  connectedClients(): number;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/**
 * An MQTT 3.1.1 broker in the platform's process (aedes, sessions and retained messages in
 * memory), so that a device can talk to a laptop running `kindling up` without installing a
 * broker. Sessions do not survive a restart of the process: for that, run Mosquitto.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log.child({ component: 'mqtt-broker' });
  const broker = await Aedes.createBroker({ drainTimeout: 30_000 });
  broker.on('clientError', (client, error) => log.debug({ clientId: client.id, err: messageOf(error) }, 'mqtt client error'));
  broker.on('connectionError', (client, error) => log.debug({ clientId: client?.id, err: messageOf(error) }, 'mqtt connection error'));
  broker.on('clientReady', (client) => log.debug({ clientId: client.id }, 'mqtt client connected'));
  broker.on('clientDisconnect', (client) => log.debug({ clientId: client.id }, 'mqtt client disconnected'));

  const server = createServer(broker.handle);
  try {
    await listen(server, options.port, host);
  } catch (error) {
    await closeBroker(broker);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new KindlingError('KND_CONFLICT', `port ${options.port} is in use: pass --mqtt-port or --no-mqtt`, { field: 'mqttPort', cause: error });
    }
    throw new KindlingError('KND_INTERNAL', `the embedded MQTT broker cannot listen on ${host}:${options.port}: ${messageOf(error)}`, { cause: error });
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ host, port }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    connectedClients: () => broker.connectedClients,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker(broker);
        await serverClosed;
        log.info({ port }, 'embedded MQTT broker stopped');
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Closing aedes disconnects its clients, which lets the server's close callback fire. */
function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
