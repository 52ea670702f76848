// kafkajs with SASL for test_sasl.py: logs in with MECHANISM (plain, scram-sha-256,
// scram-sha-512), produces COUNT messages to TOPIC partition 0, reads them back with a
// consumer group and prints each value as a line. With CA_FILE the listener is SASL_SSL.
// A failed login prints "AUTH_FAILED <error name>" and exits 3.
//
// usage: node sasl_round_trip.js BOOTSTRAP TOPIC COUNT MECHANISM USER PASSWORD [CA_FILE]
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, countText, mechanism, username, password, caFile] =
  process.argv.slice(2);
const count = Number(countText);

async function main() {
  const config = { clientId: 'cairn-sasl', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                   sasl: { mechanism, username, password }, retry: { retries: 2 } };
  if (caFile) config.ssl = { ca: [fs.readFileSync(caFile, 'utf-8')], servername: 'localhost' };
  const kafka = new Kafka(config);
  const producer = kafka.producer();
  try {
    await producer.connect();
  } catch (e) {
    console.log(`AUTH_FAILED ${e.name}`);
    process.exit(3);
  }
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ partition: 0, value: `kafkajs-sasl-${i}` });
  await producer.send({ topic, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `sasl-${Date.now()}` });
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
