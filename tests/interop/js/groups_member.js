// A kafkajs consumer-group member for tests/interop/test_groups_*.py. Consumes TOPIC in GROUP
// and prints one JSON line per event on stdout:
//   {"event": "assignment", "partitions": [..]}   after every join (its whole assignment)
//   {"event": "message", "partition": p, "offset": o, "value": "..."}
// SIGTERM: disconnects (commits, leaves the group) and exits 0.
//
// usage: node groups_member.js BOOTSTRAP GROUP TOPIC ASSIGNOR SESSION_MS
//   ASSIGNOR: "kafkajs" (kafkajs's own RoundRobinAssigner) or "roundrobin" (Kafka's roundrobin
//   under Kafka's protocol name, so the group can mix kafkajs with other clients).
'use strict';
const { Kafka, logLevel, AssignerProtocol, PartitionAssigners } = require('kafkajs');

const [bootstrap, group, topic, assignor, sessionText] = process.argv.slice(2);
const sessionTimeout = Number(sessionText);

function print(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

// Kafka's RoundRobinAssignor: members sorted by id, every subscribed topic-partition in
// (topic, partition) order dealt out in turn to the members subscribing to its topic.
const KafkaRoundRobin = ({ cluster }) => ({
  name: 'roundrobin',
  version: 0,
  protocol({ topics }) {
    return { name: 'roundrobin', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics }) };
  },
  async assign({ members, topics }) {
    const subscriptions = new Map();
    for (const member of members) {
      subscriptions.set(member.memberId,
        AssignerProtocol.MemberMetadata.decode(member.memberMetadata).topics);
    }
    const ids = members.map((m) => m.memberId).sort();
    const all = [];
    const wanted = new Set();
    for (const t of subscriptions.values()) for (const name of t) wanted.add(name);
    for (const name of [...wanted].sort()) {
      const partitions = cluster.findTopicPartitionMetadata(name).map((p) => p.partitionId);
      for (const p of partitions.sort((a, b) => a - b)) all.push([name, p]);
    }
    const assignment = new Map(ids.map((id) => [id, {}]));
    let next = 0;
    for (const [name, partition] of all) {
      for (let tries = 0; tries < ids.length; tries++) {
        const id = ids[next % ids.length];
        next++;
        if (subscriptions.get(id).includes(name)) {
          (assignment.get(id)[name] = assignment.get(id)[name] || []).push(partition);
          break;
        }
      }
    }
    return ids.map((id) => ({
      memberId: id,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0, assignment: assignment.get(id), userData: Buffer.alloc(0),
      }),
    }));
  },
});

async function main() {
  const kafka = new Kafka({ clientId: 'cairn-groups-kafkajs', brokers: [bootstrap],
                            logLevel: logLevel.NOTHING, retry: { retries: 20 } });
  const consumer = kafka.consumer({
    groupId: group,
    sessionTimeout,
    rebalanceTimeout: 30000,
    heartbeatInterval: 1000,
    partitionAssigners: [assignor === 'roundrobin' ? KafkaRoundRobin : PartitionAssigners.roundRobin],
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const partitions = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
    print({ event: 'assignment', partitions });
  });
  let stopping = false;
  process.on('SIGTERM', async () => {
    if (stopping) return;
    stopping = true;
    await consumer.disconnect();
    process.exit(0);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 500,
    eachMessage: async ({ partition, message }) => {
      print({ event: 'message', partition, offset: Number(message.offset),
              value: message.value.toString() });
    },
  });
}

main().catch((error) => {
  process.stderr.write(`groups_member.js: ${error.stack || error}\n`);
  process.exit(1);
});
