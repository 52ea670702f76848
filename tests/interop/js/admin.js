// kafkajs admin scenario for test_admin_kafkajs.py: createTopics (also validateOnly and an
// existing topic), describeConfigs, alterConfigs, createPartitions, deleteTopicRecords,
// fetchTopicOffsets, deleteTopics, and the errors kafkajs reports for bad requests. Prints one
// JSON object with what each step returned; the Python test checks it.
//
// usage: node admin.js BOOTSTRAP
'use strict';
const { Kafka, ConfigResourceTypes, logLevel } = require('kafkajs');

const [bootstrap] = process.argv.slice(2);

// What a failed admin call reports: the broker's error types, per topic where kafkajs has them.
function failure(err) {
  // Retriable broker errors (UNKNOWN_TOPIC_OR_PARTITION) end as "retries exceeded"; the
  // broker's error is the cause.
  if (err.name === 'KafkaJSNumberOfRetriesExceeded' && err.cause) return failure(err.cause);
  if (err.errors) return err.errors.map((e) => e.type || e.name);
  if (err.partitions) return err.partitions.map((p) => (p.error && p.error.type) || 'unknown');
  return [err.type || err.name];
}

async function attempt(fn) {
  try {
    const value = await fn();
    return { ok: value === undefined ? true : value };
  } catch (err) {
    return { error: failure(err) };
  }
}

async function produce(kafka, topic, count) {
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

async function main() {
  const kafka = new Kafka({ clientId: 'cairn-admin-interop', brokers: [bootstrap],
                            logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  const out = {};
  out.created = await admin.createTopics({
    topics: [{ topic: 'kjs-orders', numPartitions: 3, replicationFactor: 1,
               configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  out.createdAgain = await admin.createTopics({ topics: [{ topic: 'kjs-orders' }] });
  out.validated = await admin.createTopics({
    validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-dry', numPartitions: 2 }],
  });
  out.badReplication = await attempt(() => admin.createTopics({
    topics: [{ topic: 'kjs-bad', numPartitions: 1, replicationFactor: 3 }] }));
  out.badConfig = await attempt(() => admin.createTopics({
    topics: [{ topic: 'kjs-bad', configEntries: [{ name: 'retention.ms', value: 'x' }] }] }));
  out.topics = (await admin.listTopics()).sort();

  const describe = async () => {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-orders' }],
    });
    const entries = {};
    for (const e of described.resources[0].configEntries) {
      entries[e.configName] = { value: e.configValue, isDefault: e.isDefault,
                                source: e.configSource, readOnly: e.readOnly };
    }
    return entries;
  };
  out.configsBefore = await describe();
  out.altered = await attempt(() => admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-orders',
                  configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' },
                                  { name: 'max.message.bytes', value: '2000000' }] }],
  }));
  out.configsAfter = await describe();
  out.brokerConfigs = (await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configNames: ['num.partitions'] }],
  })).resources[0].configEntries.map((e) => [e.configName, e.configValue]);

  out.grown = await attempt(() => admin.createPartitions({
    topicPartitions: [{ topic: 'kjs-orders', count: 5 }] }));
  out.shrink = await attempt(() => admin.createPartitions({
    topicPartitions: [{ topic: 'kjs-orders', count: 2 }] }));
  const metadata = await admin.fetchTopicMetadata({ topics: ['kjs-orders'] });
  out.partitions = metadata.topics[0].partitions.length;

  await produce(kafka, 'kjs-orders', 10);
  out.deletedRecords = await attempt(() => admin.deleteTopicRecords({
    topic: 'kjs-orders', partitions: [{ partition: 0, offset: '4' }] }));
  out.offsetsAfterDelete = (await admin.fetchTopicOffsets('kjs-orders'))
    .filter((p) => p.partition === 0).map((p) => ({ low: p.low, high: p.high }))[0];
  out.deletedToEnd = await attempt(() => admin.deleteTopicRecords({
    topic: 'kjs-orders', partitions: [{ partition: 0, offset: '-1' }] }));
  out.offsetsAtEnd = (await admin.fetchTopicOffsets('kjs-orders'))
    .filter((p) => p.partition === 0).map((p) => ({ low: p.low, high: p.high }))[0];

  out.deleted = await attempt(() => admin.deleteTopics({ topics: ['kjs-orders'] }));
  out.deleteMissing = await attempt(() => admin.deleteTopics({ topics: ['kjs-missing'] }));
  out.topicsAfter = (await admin.listTopics()).sort();
  await admin.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`kafkajs: ${err.stack || err}\n`);
  process.exit(1);
});
