// Fails unless the NATS server on 127.0.0.1:4222 has JetStream enabled.
import { connect } from 'nats';

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', timeout: 5000 });
try {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.getAccountInfo();
  console.log(`JetStream ok: ${info.streams} streams, ${info.consumers} consumers`);
} finally {
  await nc.close();
}
