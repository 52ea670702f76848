// sarama_client drives sarama (1.22.1, Debian's golang-github-shopify-sarama-dev) against
// Cairn for test_clients_sarama.py, speaking as the Kafka version it is told:
//
//	sarama_client BOOTSTRAP VERSION TOPIC COUNT
//	sarama_client --member BOOTSTRAP VERSION GROUP TOPIC   (member.go)
//
// It creates TOPIC (2 partitions) with ClusterAdmin, lists it and describes its configs,
// produces COUNT messages per codec (none, gzip, snappy, lz4) with a SyncProducer (and, from
// Kafka 2.1 on, tries zstd), consumes them all with a consumer group (marking each), reads the
// group's committed offsets, alters configs, adds a partition, deletes records, lists and
// describes the group, deletes the topic and lists again. It prints one JSON line with what
// it did and saw.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

const timeout = 60 * time.Second

// sessionTimeout is the consumer group session timeout of the round trip and of a member.
const sessionTimeout = 15 * time.Second

// settle is how long the group keeps consuming after the last expected message, so that a
// message delivered twice would be seen.
const settle = 1500 * time.Millisecond

var codecs = []struct {
	name  string
	codec sarama.CompressionCodec
}{
	{"none", sarama.CompressionNone},
	{"gzip", sarama.CompressionGZIP},
	{"snappy", sarama.CompressionSnappy},
	{"lz4", sarama.CompressionLZ4},
}

type message struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Header    string `json:"header"`
}

type report struct {
	Version           string          `json:"version"`
	ListedPartitions  int32           `json:"listed_partitions"`
	CleanupPolicy     string          `json:"cleanup_policy"`
	Sent              []message       `json:"sent"`
	Seen              []message       `json:"seen"`
	Committed         map[int32]int64 `json:"committed"`
	ListedAfterDelete bool            `json:"listed_after_delete"`
	// After the group is done (moreAdmin); calls sarama refuses at VERSION are in Errors.
	RetentionMs       string            `json:"retention_ms"`
	PartitionsAfter   int               `json:"partitions_after"`
	OldestAfterDelete int64             `json:"oldest_after_delete"`
	GroupProtocolType string            `json:"group_protocol_type"`
	GroupState        string            `json:"group_state"`
	Errors            map[string]string `json:"errors"`
}

func fail(step string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", step, err)
	os.Exit(1)
}

func newConfig(version sarama.KafkaVersion) *sarama.Config {
	config := sarama.NewConfig()
	config.Version = version
	config.ClientID = "cairn-sarama"
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Return.Errors = true
	config.Consumer.Group.Session.Timeout = sessionTimeout
	config.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	return config
}

// listTopics returns TOPIC's partition count, and whether TOPIC is there, as ClusterAdmin's
// ListTopics sees it. Below Kafka 0.11 (no DescribeConfigs, which ListTopics sends too) it
// asks a plain client's Metadata instead.
func listTopics(admin sarama.ClusterAdmin, brokers []string, version sarama.KafkaVersion,
	topic string) (int32, bool) {
	if version.IsAtLeast(sarama.V0_11_0_0) {
		topics, err := admin.ListTopics()
		if err != nil {
			fail("ListTopics", err)
		}
		detail, found := topics[topic]
		return detail.NumPartitions, found
	}
	client, err := sarama.NewClient(brokers, newConfig(version))
	if err != nil {
		fail("NewClient", err)
	}
	defer client.Close()
	topics, err := client.Topics()
	if err != nil {
		fail("Topics", err)
	}
	for _, name := range topics {
		if name == topic {
			partitions, err := client.Partitions(topic)
			if err != nil {
				fail("Partitions", err)
			}
			return int32(len(partitions)), true
		}
	}
	return 0, false
}

func createAndDescribe(admin sarama.ClusterAdmin, brokers []string, version sarama.KafkaVersion,
	topic string, out *report) {
	detail := &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}
	if err := admin.CreateTopic(topic, detail, false); err != nil {
		fail("CreateTopic", err)
	}
	out.ListedPartitions, _ = listTopics(admin, brokers, version, topic)
	entries, err := admin.DescribeConfig(sarama.ConfigResource{
		Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"cleanup.policy"}})
	if err != nil {
		// Below Kafka 0.11 sarama refuses before sending; the test checks which error.
		out.Errors["DescribeConfig"] = err.Error()
		return
	}
	for _, entry := range entries {
		if entry.Name == "cleanup.policy" {
			out.CleanupPolicy = entry.Value
		}
	}
}

// produce sends count messages per codec, alternating partitions, one SyncProducer per codec.
func produce(brokers []string, version sarama.KafkaVersion, topic string, count int,
	out *report) {
	for _, c := range codecs {
		config := newConfig(version)
		config.Producer.Compression = c.codec
		producer, err := sarama.NewSyncProducer(brokers, config)
		if err != nil {
			fail("NewSyncProducer "+c.name, err)
		}
		var batch []*sarama.ProducerMessage
		for i := 0; i < count; i++ {
			m := message{Partition: int32(i % 2), Key: fmt.Sprintf("key-%d", i%5),
				Value: fmt.Sprintf("sarama-%s-%d-%0*d", c.name, i, i%40, 0)}
			pm := &sarama.ProducerMessage{Topic: topic, Partition: m.Partition,
				Key: sarama.StringEncoder(m.Key), Value: sarama.StringEncoder(m.Value)}
			// Headers need record batches (Kafka 0.11); sarama refuses them below.
			if version.IsAtLeast(sarama.V0_11_0_0) {
				m.Header = strconv.Itoa(i)
				pm.Headers = []sarama.RecordHeader{{Key: []byte("n"), Value: []byte(m.Header)}}
			}
			batch = append(batch, pm)
			out.Sent = append(out.Sent, m)
		}
		if err := producer.SendMessages(batch); err != nil {
			if errs, ok := err.(sarama.ProducerErrors); ok {
				err = fmt.Errorf("%v, the first: %v", err, errs[0].Err)
			}
			fail("SendMessages "+c.name, err)
		}
		for i, pm := range batch {
			out.Sent[len(out.Sent)-count+i].Offset = pm.Offset
		}
		if err := producer.Close(); err != nil {
			fail("producer Close", err)
		}
	}
}

// collector is the consumer group handler: it keeps every message and marks it consumed.
type collector struct {
	mutex    sync.Mutex
	seen     []message
	expected int
	done     chan struct{}
}

func (c *collector) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (c *collector) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (c *collector) ConsumeClaim(session sarama.ConsumerGroupSession,
	claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		header := ""
		for _, h := range m.Headers {
			if string(h.Key) == "n" {
				header = string(h.Value)
			}
		}
		c.mutex.Lock()
		c.seen = append(c.seen, message{Partition: m.Partition, Offset: m.Offset,
			Key: string(m.Key), Value: string(m.Value), Header: header})
		if len(c.seen) == c.expected {
			close(c.done)
		}
		c.mutex.Unlock()
		session.MarkMessage(m, "")
	}
	return nil
}

func consume(brokers []string, version sarama.KafkaVersion, topic, group string,
	out *report) {
	consumerGroup, err := sarama.NewConsumerGroup(brokers, group, newConfig(version))
	if err != nil {
		fail("NewConsumerGroup", err)
	}
	handler := &collector{expected: len(out.Sent), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := consumerGroup.Consume(ctx, []string{topic}, handler); err != nil {
				stopped <- err
				return
			}
		}
		stopped <- nil
	}()
	go func() {
		for err := range consumerGroup.Errors() {
			fmt.Fprintf(os.Stderr, "consumer group error: %v\n", err)
		}
	}()
	select {
	case <-handler.done:
		time.Sleep(settle)
	case err := <-stopped:
		fail("Consume", err)
	case <-time.After(timeout):
		handler.mutex.Lock()
		fail("Consume", fmt.Errorf("timed out with %d of %d messages", len(handler.seen),
			handler.expected))
	}
	cancel()
	if err := <-stopped; err != nil {
		fail("Consume", err)
	}
	if err := consumerGroup.Close(); err != nil {
		fail("consumer group Close", err)
	}
	handler.mutex.Lock()
	out.Seen = handler.seen
	handler.mutex.Unlock()
}

func committed(admin sarama.ClusterAdmin, topic, group string, out *report) {
	response, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1}})
	if err != nil {
		fail("ListConsumerGroupOffsets", err)
	}
	out.Committed = map[int32]int64{}
	for partition, block := range response.Blocks[topic] {
		if block.Err != sarama.ErrNoError {
			fail("ListConsumerGroupOffsets", block.Err)
		}
		out.Committed[partition] = block.Offset
	}
}

// zstdRefused tries a zstd-compressed send, which sarama 1.22 makes with Produce v3 (zstd needs
// v7, KIP-110): Kafka, and Cairn, refuse it; the error goes in out.Errors["zstd"].
func zstdRefused(brokers []string, version sarama.KafkaVersion, topic string, out *report) {
	config := newConfig(version)
	config.Producer.Compression = sarama.CompressionZSTD
	config.Producer.Retry.Max = 0
	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		fail("NewSyncProducer zstd", err)
	}
	defer producer.Close()
	_, _, err = producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0,
		Value: sarama.StringEncoder("zstd")})
	if err != nil {
		out.Errors["zstd"] = err.Error()
	}
}

// moreAdmin runs the rest of ClusterAdmin on TOPIC once the group is done. A call that Kafka
// VERSION did not have, sarama refuses before sending: its error goes in out.Errors.
func moreAdmin(admin sarama.ClusterAdmin, client sarama.Client, topic, group string,
	out *report) {
	ok := func(call string, err error) bool {
		if err != nil {
			out.Errors[call] = err.Error()
		}
		return err == nil
	}
	retention := "3600000"
	entries := map[string]*string{"retention.ms": &retention}
	if ok("AlterConfig", admin.AlterConfig(sarama.TopicResource, topic, entries, false)) {
		described, err := admin.DescribeConfig(sarama.ConfigResource{
			Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"retention.ms"}})
		if ok("DescribeConfig", err) && len(described) == 1 {
			out.RetentionMs = described[0].Value
		}
	}
	if ok("CreatePartitions", admin.CreatePartitions(topic, 3, nil, false)) {
		metadata, err := admin.DescribeTopics([]string{topic})
		if ok("DescribeTopics", err) && len(metadata) == 1 {
			out.PartitionsAfter = len(metadata[0].Partitions)
		}
	}
	if ok("DeleteRecords", admin.DeleteRecords(topic, map[int32]int64{0: 2})) {
		oldest, err := client.GetOffset(topic, 0, sarama.OffsetOldest)
		if ok("GetOffset", err) {
			out.OldestAfterDelete = oldest
		}
	}
	groups, err := admin.ListConsumerGroups()
	if ok("ListConsumerGroups", err) {
		out.GroupProtocolType = groups[group]
	}
	described, err := admin.DescribeConsumerGroups([]string{group})
	if ok("DescribeConsumerGroups", err) && len(described) == 1 {
		out.GroupState = described[0].State
	}
}

func main() {
	if len(os.Args) == 6 && os.Args[1] == "--member" {
		runMember(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
		return
	}
	if len(os.Args) != 5 {
		fail("usage", fmt.Errorf("sarama_client BOOTSTRAP VERSION TOPIC COUNT"))
	}
	brokers := []string{os.Args[1]}
	version, err := sarama.ParseKafkaVersion(os.Args[2])
	if err != nil {
		fail("version", err)
	}
	topic := os.Args[3]
	count, err := strconv.Atoi(os.Args[4])
	if err != nil {
		fail("count", err)
	}
	out := &report{Version: version.String(), Errors: map[string]string{}}
	admin, err := sarama.NewClusterAdmin(brokers, newConfig(version))
	if err != nil {
		fail("NewClusterAdmin", err)
	}
	client, err := sarama.NewClient(brokers, newConfig(version))
	if err != nil {
		fail("NewClient", err)
	}
	createAndDescribe(admin, brokers, version, topic, out)
	produce(brokers, version, topic, count, out)
	if version.IsAtLeast(sarama.V2_1_0_0) {
		zstdRefused(brokers, version, topic, out)
	}
	consume(brokers, version, topic, topic+"-group", out)
	committed(admin, topic, topic+"-group", out)
	moreAdmin(admin, client, topic, topic+"-group", out)
	if err := client.Close(); err != nil {
		fail("client Close", err)
	}
	if err := admin.DeleteTopic(topic); err != nil {
		fail("DeleteTopic", err)
	}
	_, out.ListedAfterDelete = listTopics(admin, brokers, version, topic)
	if err := admin.Close(); err != nil {
		fail("admin Close", err)
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		fail("json", err)
	}
	fmt.Println(string(encoded))
}
