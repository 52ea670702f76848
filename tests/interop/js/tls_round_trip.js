// kafkajs over TLS for test_tls_listeners.py: produces COUNT messages to TOPIC partition 0
// through an SSL listener (verifying the broker against CA_FILE, optionally presenting a
// client certificate), reads them back with a consumer group over the same listener and prints
// each value as a line.
//
// usage: node tls_round_trip.js BOOTSTRAP TOPIC COUNT CA_FILE [CERT_FILE KEY_FILE]
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, countText, caFile, certFile, keyFile] = process.argv.slice(2);
const count = Number(countText);

async function main() {
  const ssl = { ca: [fs.readFileSync(caFile, 'utf-8')], servername: 'localhost' };
  if (certFile) {
    ssl.cert = fs.readFileSync(certFile, 'utf-8');
    ssl.key = fs.readFileSync(keyFile, 'utf-8');
  }
  const kafka = new Kafka({ clientId: 'cairn-tls', brokers: [bootstrap], ssl,
                            logLevel: logLevel.WARN, retry: { retries: 5 } });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ partition: 0, value: `kafkajs-tls-${i}` });
  await producer.send({ topic, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `tls-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count}`)), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (seen.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  for (const value of seen) console.log(value);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
