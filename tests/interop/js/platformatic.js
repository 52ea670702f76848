// @platformatic/kafka (a current pure-JavaScript client that needs Metadata v9, CreateTopics v7,
// FindCoordinator v4, Fetch v12, JoinGroup v6 and OffsetFetch v8 at least) against Cairn:
// create a topic, produce keyed messages with headers, consume them back with a consumer group
// (committing), list and delete topics. Prints one JSON line with what it saw.
// Usage: node platformatic.js BOOTSTRAP TOPIC COUNT
'use strict'
const { Admin, Producer, Consumer, stringSerializers, stringDeserializers } =
  require('@platformatic/kafka')

async function main () {
  const [bootstrap, topic, countText] = process.argv.slice(2)
  const count = Number(countText)
  const brokers = [bootstrap]
  const admin = new Admin({ clientId: 'cairn-platformatic-admin', bootstrapBrokers: brokers })
  const created = await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
  const producer = new Producer({
    clientId: 'cairn-platformatic-producer', bootstrapBrokers: brokers,
    serializers: stringSerializers
  })
  const messages = []
  for (let i = 0; i < count; i++) {
    messages.push({ topic, key: 'key-' + (i % 5), value: 'value-' + i, headers: { n: String(i) } })
  }
  await producer.send({ messages })
  await producer.close()

  const consumer = new Consumer({
    groupId: topic + '-group', clientId: 'cairn-platformatic-consumer', bootstrapBrokers: brokers,
    deserializers: stringDeserializers
  })
  const stream = await consumer.consume({
    topics: [topic], mode: 'earliest', autocommit: false, sessionTimeout: 10000,
    heartbeatInterval: 500
  })
  const seen = []
  for await (const message of stream) {
    seen.push({
      key: message.key,
      value: message.value,
      header: message.headers.get('n'),
      partition: message.partition,
      offset: Number(message.offset)
    })
    await message.commit()
    if (seen.length === count) break
  }
  await stream.close()
  await consumer.close()
  const topics = await admin.listTopics()
  await admin.deleteTopics({ topics: [topic] })
  const after = await admin.listTopics()
  await admin.close()
  console.log(JSON.stringify({
    created: created.map(t => ({ name: t.name, id: t.id, partitions: t.partitions })),
    seen,
    listed: topics.includes(topic),
    listed_after_delete: after.includes(topic)
  }))
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
