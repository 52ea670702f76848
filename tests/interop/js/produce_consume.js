// kafkajs round trip for test_clients_kafkajs.py: produces keyed messages with headers and
// explicit timestamps to a topic under one compression codec, then (unless --produce-only)
// consumes the topic from the beginning with a consumer group and prints every message as a
// JSON line: {"partition", "offset", "key", "value", "headers", "timestamp"}.
//
// usage: node produce_consume.js BOOTSTRAP TOPIC CODEC COUNT PARTITIONS [--produce-only]
'use strict';
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');

const [bootstrap, topic, codec, countText, partitionsText, mode] = process.argv.slice(2);
const count = Number(countText);
const partitions = Number(partitionsText);
const codecs = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
};

function expected() {
  const base = Date.now() - 60000;
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push({
      partition: i % partitions,
      key: `key-${i % 7}`,
      value: `kafkajs-${codec} message ${i} `.repeat(20),
      headers: { trace: `t-${i}`, client: 'kafkajs' },
      timestamp: String(base + i),
    });
  }
  return out;
}

async function main() {
  const kafka = new Kafka({ clientId: 'cairn-interop', brokers: [bootstrap], logLevel: logLevel.WARN,
                            retry: { retries: 10 } });
  const producer = kafka.producer();
  await producer.connect();
  const messages = expected();
  for (let p = 0; p < partitions; p++) {
    await producer.send({
      topic, acks: -1, compression: codecs[codec],
      messages: messages.filter((m) => m.partition === p),
    });
  }
  await producer.disconnect();
  if (mode === '--produce-only') return;

  const consumer = kafka.consumer({ groupId: `interop-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${seen} messages`)), 90000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers = {};
        for (const [k, v] of Object.entries(message.headers || {})) headers[k] = v.toString();
        process.stdout.write(JSON.stringify({
          partition, offset: Number(message.offset), key: message.key.toString(),
          value: message.value.toString(), headers, timestamp: message.timestamp,
        }) + '\n');
        seen += 1;
        if (seen === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`kafkajs: ${err.stack || err}\n`);
  process.exit(1);
});
