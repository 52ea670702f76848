// kafkajs transactions against Cairn, for tests/interop/test_transactions_kafkajs.py.
//
// usage: node transactions.js BOOTSTRAP OUT_TOPIC GROUP
// 1. A transactional producer commits 10 messages (c0..c9) together with offset 5 of
//    partition 0 of `${OUT_TOPIC}-in` for GROUP (sendOffsets), aborts 5 (a0..a4), then commits
//    5 more (c10..c14).
// 2. A kafkajs consumer (read_committed, kafkajs's default) reads OUT_TOPIC from the start.
// Prints one JSON line: {"values": [...] (what the consumer got, in partition order),
//                        "offset": "..." (GROUP's committed offset of the input partition)}.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, group] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'txn-js', brokers: [bootstrap], logLevel: logLevel.NOTHING });

async function main() {
  const producer = kafka.producer({
    transactionalId: 'kafkajs-txn', idempotent: true, maxInFlightRequests: 1,
  });
  await producer.connect();
  const send = async (txn, prefix, from, to) => {
    const messages = [];
    for (let i = from; i < to; i++) messages.push({ value: `${prefix}${i}`, partition: i % 2 });
    await txn.send({ topic, messages });
  };
  let txn = await producer.transaction();
  await send(txn, 'c', 0, 10);
  await txn.sendOffsets({
    consumerGroupId: group,
    topics: [{ topic: `${topic}-in`, partitions: [{ partition: 0, offset: '5' }] }],
  });
  await txn.commit();
  txn = await producer.transaction();
  await send(txn, 'a', 0, 5);
  await txn.abort();
  txn = await producer.transaction();
  await send(txn, 'c', 10, 15);
  await txn.commit();
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${group}-reader`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = { 0: [], 1: [] };
  let count = 0;
  const done = new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got[partition].push(message.value.toString());
        count++;
        if (count >= 15) resolve();
      },
    });
  });
  // Extra time after the 15th: an aborted record delivered late would show up.
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60000))]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await consumer.disconnect();

  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [`${topic}-in`] });
  await admin.disconnect();
  const offset = offsets[0].partitions.find((p) => p.partition === 0).offset;
  process.stdout.write(JSON.stringify({ values: got[0].concat(got[1]), offset }) + '\n');
  process.exit(0);  // the fallback timer above would keep node alive
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
