package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/Shopify/sarama"
)

// memberPrinter writes the member's events as JSON lines, one writer at a time.
type memberPrinter struct {
	mutex sync.Mutex
}

func (p *memberPrinter) print(event map[string]interface{}) {
	p.mutex.Lock()
	defer p.mutex.Unlock()
	line, err := json.Marshal(event)
	if err != nil {
		fail("json", err)
	}
	fmt.Println(string(line))
}

// memberHandler reports each assignment (after every join; empty when a session ends) and
// each message, and marks every message consumed.
type memberHandler struct {
	topic   string
	printer *memberPrinter
}

func (h *memberHandler) assignment(partitions []int32) {
	if partitions == nil {
		partitions = []int32{}
	}
	h.printer.print(map[string]interface{}{"event": "assignment", "partitions": partitions})
}

func (h *memberHandler) Setup(session sarama.ConsumerGroupSession) error {
	h.assignment(session.Claims()[h.topic])
	return nil
}

func (h *memberHandler) Cleanup(sarama.ConsumerGroupSession) error {
	h.assignment(nil)
	return nil
}

func (h *memberHandler) ConsumeClaim(session sarama.ConsumerGroupSession,
	claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.printer.print(map[string]interface{}{"event": "message", "partition": m.Partition,
			"offset": m.Offset, "value": string(m.Value)})
		session.MarkMessage(m, "")
	}
	return nil
}

// runMember is one member of GROUP among members of other clients (the groups tests, with
// Kafka's roundrobin assignor), printing JSON lines as tests/interop/js/groups_member.js does,
// until SIGTERM: then it commits, leaves the group and exits 0.
//
//	sarama_client --member BOOTSTRAP VERSION GROUP TOPIC
func runMember(bootstrap, versionText, group, topic string) {
	version, err := sarama.ParseKafkaVersion(versionText)
	if err != nil {
		fail("version", err)
	}
	config := newConfig(version)
	config.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRoundRobin
	consumerGroup, err := sarama.NewConsumerGroup([]string{bootstrap}, group, config)
	if err != nil {
		fail("NewConsumerGroup", err)
	}
	go func() {
		for err := range consumerGroup.Errors() {
			fmt.Fprintf(os.Stderr, "consumer group error: %v\n", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
	}()
	handler := &memberHandler{topic: topic, printer: &memberPrinter{}}
	for ctx.Err() == nil {
		if err := consumerGroup.Consume(ctx, []string{topic}, handler); err != nil {
			fail("Consume", err)
		}
	}
	if err := consumerGroup.Close(); err != nil {
		fail("consumer group Close", err)
	}
}
