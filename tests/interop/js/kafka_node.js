// kafka-node (5.0.0), a client of the Kafka 0.9-1.0 era that writes message formats v0/v1 with
// Produce v0-2 and reads them with Fetch v0-2, against Cairn (test_clients_kafkanode.py).
// Prints one JSON line with what it did and saw.
//
// usage: node kafka_node.js BOOTSTRAP TOPIC COUNT MODE [--format-v0]
//   MODE all:     create TOPIC (2 partitions), list and describe it, produce COUNT messages
//                 (plain to partition 0, gzip with a key to partition 1, keyed ones to both),
//                 read the latest offsets, consume them all with a ConsumerGroup, commit,
//                 read the committed offsets back, list and describe the group
//   MODE produce: only the produce step (the topic must exist)
//   MODE consume: only the consumer group step, until COUNT messages came
//   MODE member:  node kafka_node.js BOOTSTRAP TOPIC 0 member GROUP: one member of GROUP
//                 among members of other clients (Kafka's roundrobin assignor), printing JSON
//                 lines as groups_member.js does, until SIGTERM: then it commits, leaves the
//                 group and exits 0
//   --format-v0:  cap kafka-node's own table of the versions it knows at Produce v0 and Fetch
//                 v0, so that it writes and reads message format v0 (magic 0), as it would
//                 with a Kafka 0.8 broker. (Its option versions.disabled, which should select
//                 Kafka 0.9's versions, never marks the broker ready in 5.0.0: no ApiVersions
//                 answer, no readiness.)
'use strict';
const kafka = require('kafka-node');
const knownVersions = require('kafka-node/lib/protocol/protocolVersions').maxSupport;

const TIMEOUT_MS = 60000;
// How long the consumer keeps listening after the last expected message, so that a message
// delivered twice would be seen.
const SETTLE_MS = 1500;

const args = process.argv.slice(2);
const [bootstrap, topic, countText, mode, memberGroup] = args.filter(a => !a.startsWith('--'));
const count = Number(countText);
const formatV0 = args.includes('--format-v0');
if (formatV0) {
  knownVersions.produce = 0;
  knownVersions.fetch = 0;
}

function call (target, method, ...args) {
  return new Promise((resolve, reject) => {
    target[method](...args, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function ready (emitter) {
  return new Promise((resolve, reject) => {
    emitter.once('ready', resolve);
    emitter.once('error', reject);
  });
}

function newClient () {
  return new kafka.KafkaClient({ kafkaHost: bootstrap, connectTimeout: 10000,
    requestTimeout: 30000 });
}

// The messages of `count`, by kind: i % 3 == 0 plain to partition 0, 1 gzip-compressed under
// one payload key to partition 1, 2 with their own key to partition i % 2.
function payloads () {
  const plain = { topic, partition: 0, messages: [] };
  const gzip = { topic, partition: 1, attributes: 1, key: 'gzip-key', messages: [] };
  const keyed = [{ topic, partition: 0, messages: [] }, { topic, partition: 1, messages: [] }];
  const sent = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) {
      plain.messages.push('plain-' + i);
      sent.push({ partition: 0, key: null, value: 'plain-' + i });
    } else if (kind === 1) {
      const value = 'gzip-' + i + '-' + 'z'.repeat(i % 40);
      gzip.messages.push(value);
      sent.push({ partition: 1, key: 'gzip-key', value });
    } else {
      const key = 'key-' + (i % 5);
      keyed[i % 2].messages.push(new kafka.KeyedMessage(key, 'keyed-' + i));
      sent.push({ partition: i % 2, key, value: 'keyed-' + i });
    }
  }
  return { plain: [plain], gzip: [gzip], keyed, sent };
}

async function admin (out) {
  const client = newClient();
  const adminClient = new kafka.Admin(client);
  const created = await call(adminClient, 'createTopics',
    [{ topic, partitions: 2, replicationFactor: 1 }]);
  out.create_errors = created.filter(r => r.error).map(r => r.topic + ': ' + r.error);
  const listed = await call(adminClient, 'listTopics');
  out.listed_partitions = Object.keys(listed[1].metadata[topic] || {}).length;
  const loaded = await call(client, 'loadMetadataForTopics', [topic]);
  out.loaded_partitions = Object.keys(loaded[1].metadata[topic] || {}).length;
  out.brokers = Object.keys(loaded[0]).length;
  const configs = await call(adminClient, 'describeConfigs', {
    resources: [{ resourceType: 'topic', resourceName: topic, configNames: ['cleanup.policy'] }],
    includeSynonyms: false
  });
  out.cleanup_policy = configs[0].configEntries.map(e => e.configValue)[0] || null;
  await call(client, 'close');
}

async function produce (out) {
  const client = newClient();
  const producer = new kafka.Producer(client, { requireAcks: -1, ackTimeoutMs: 10000 });
  await ready(producer);
  const { plain, gzip, keyed, sent } = payloads();
  await call(producer, 'send', plain);
  await call(producer, 'send', keyed);
  if (formatV0) {
    // kafka-node compresses a magic 1 message set even when it wraps it in a magic 0
    // message. Kafka refuses the mix, and so does Cairn (CORRUPT_MESSAGE): none of it is
    // stored.
    out.gzip_error = await call(producer, 'send', gzip).then(() => null, e => e.message);
  } else {
    await call(producer, 'send', gzip);
  }
  out.sent = sent.filter(m => !formatV0 || m.key !== 'gzip-key');
  await call(producer, 'close');
}

// The latest offsets (ListOffsets v0, time -1), and Offset.fetch's "offsets before" a time:
// its default, now, and an hour from now.
async function latestOffsets (out) {
  const client = newClient();
  const offset = new kafka.Offset(client);
  const latest = await call(offset, 'fetchLatestOffsets', [topic]);
  out.latest = [latest[topic]['0'], latest[topic]['1']];
  const partitions = [{ topic, partition: 0 }, { topic, partition: 1 }];
  const now = await call(offset, 'fetch', partitions);
  out.before_now = [now[topic]['0'], now[topic]['1']];
  const hourLater = Date.now() + 3600000;
  const later = await call(offset, 'fetch', partitions.map(p => ({ ...p, time: hourLater })));
  out.before_an_hour_from_now = [later[topic]['0'], later[topic]['1']];
  await call(client, 'close');
}

function consumeAll (group, expected) {
  return new Promise((resolve, reject) => {
    const consumer = new kafka.ConsumerGroup({
      kafkaHost: bootstrap, groupId: group, fromOffset: 'earliest', outOfRangeOffset: 'earliest',
      autoCommit: false, sessionTimeout: 15000, protocol: ['roundrobin'], encoding: 'utf8',
      keyEncoding: 'utf8'
    }, [topic]);
    const seen = [];
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      consumer.close(true, (closeError) => (error || closeError ? reject(error || closeError)
        : resolve(seen)));
    };
    const deadline = setTimeout(() => finish(new Error(
      `timed out with ${seen.length} of ${expected} messages`)), TIMEOUT_MS);
    consumer.on('error', finish);
    consumer.on('message', (m) => {
      seen.push({ partition: m.partition, offset: m.offset, key: m.key == null ? null : m.key,
        value: m.value });
      if (seen.length === expected) setTimeout(() => finish(null), SETTLE_MS);
    });
  });
}

// The group's committed offsets (OffsetFetch v1), and the group as ListGroups and
// DescribeGroups see it once its member left.
async function committedOffsets (group, out) {
  const client = newClient();
  const offset = new kafka.Offset(client);
  const committed = await call(offset, 'fetchCommitsV1', group,
    [{ topic, partition: 0 }, { topic, partition: 1 }]);
  out.committed = [committed[topic]['0'], committed[topic]['1']];
  const adminClient = new kafka.Admin(client);
  out.group_protocol_type = (await call(adminClient, 'listGroups'))[group];
  const described = (await call(adminClient, 'describeGroups', [group]))[group];
  out.group_state = described.state;
  out.group_members = described.members.length;
  await call(client, 'close');
}

function print (event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function member (group) {
  const consumer = new kafka.ConsumerGroup({
    kafkaHost: bootstrap, groupId: group, fromOffset: 'earliest', autoCommit: true,
    autoCommitIntervalMs: 500, sessionTimeout: 15000, protocol: ['roundrobin'], encoding: 'utf8'
  }, [topic]);
  consumer.on('rebalancing', () => print({ event: 'assignment', partitions: [] }));
  consumer.on('rebalanced', () => print({
    event: 'assignment',
    partitions: consumer.topicPayloads.filter(p => p.topic === topic).map(p => p.partition)
  }));
  consumer.on('message', m => print({
    event: 'message', partition: m.partition, offset: m.offset, value: m.value
  }));
  consumer.on('error', error => {
    console.error(error);
    process.exit(1);
  });
  process.on('SIGTERM', () => consumer.close(true, error => process.exit(error ? 1 : 0)));
}

async function main () {
  if (mode === 'member') return member(memberGroup);
  const out = {};
  if (mode === 'all') await admin(out);
  if (mode === 'all' || mode === 'produce') {
    await produce(out);
    await latestOffsets(out);
  }
  if (mode === 'all' || mode === 'consume') {
    const group = topic + '-kafka-node';
    out.seen = await consumeAll(group, out.sent ? out.sent.length : count);
    await committedOffsets(group, out);
  }
  console.log(JSON.stringify(out));
}

main().then(() => mode === 'member' || process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
