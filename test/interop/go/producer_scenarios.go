package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

const defaultWait = 30 * time.Second

// sendSync sends msgs one by one and counts SEND_OK results.
func sendSync(a args, group string, msgs []*primitive.Message, opts ...producer.Option) (ok int, results []*primitive.SendResult, err error) {
	p, err := newProducer(a, group, opts...)
	if err != nil {
		return 0, nil, err
	}
	defer p.Shutdown()
	for _, m := range msgs {
		r, err := p.SendSync(context.Background(), m)
		if err != nil {
			return ok, results, fmt.Errorf("send %s: %w", m.Body, err)
		}
		if r.Status == primitive.SendOK {
			ok++
		}
		results = append(results, r)
	}
	return ok, results, nil
}

// producerSync: count sync sends; a push consumer from the first offset gets each body once.
func producerSync(a args) (map[string]any, error) {
	topic := a.str("topic")
	count := a.integer("count", 100)
	msgs := make([]*primitive.Message, count)
	for i := range msgs {
		msgs[i] = primitive.NewMessage(topic, []byte("body-"+strconv.Itoa(i))).WithTag("TagA").WithKeys([]string{"k" + strconv.Itoa(i)})
	}
	ok, _, err := sendSync(a, "go_sync_producer_"+topic, msgs)
	if err != nil {
		return nil, err
	}
	event("sent", map[string]any{"ok": ok})
	seen := newTally()
	c, err := newPushConsumer(a, "go_sync_consumer_"+topic, topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			seen.add(string(m.Body))
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return nil, err
	}
	defer c.Shutdown()
	if err := until(strconv.Itoa(count)+" distinct bodies", a.duration("timeoutMs", defaultWait), func() bool { _, d := seen.counts(); return d >= count }); err != nil {
		return nil, err
	}
	deliveries, distinct := seen.counts()
	return map[string]any{"sentOk": ok, "distinct": distinct, "deliveries": deliveries}, nil
}

var tagCycle = []string{"TagA", "TagB", "TagC"}

// producerTags: count messages cycling through TagA, TagB, TagC; a consumer subscribed to "TagA"
// gets only those. It reports "received" once every TagA message arrived, then waits for the
// driver's "done" (the driver checks the group's offsets reached the end of every queue, so the
// broker skipped the other tags rather than them still being in flight).
func producerTags(a args) (map[string]any, error) {
	topic := a.str("topic")
	count := a.integer("count", 90)
	msgs := make([]*primitive.Message, count)
	wantA := 0
	for i := range msgs {
		tag := tagCycle[i%len(tagCycle)]
		if tag == "TagA" {
			wantA++
		}
		msgs[i] = primitive.NewMessage(topic, []byte(tag+"-"+strconv.Itoa(i))).WithTag(tag)
	}
	ok, _, err := sendSync(a, "go_tags_producer_"+topic, msgs)
	if err != nil {
		return nil, err
	}
	seen := newTally()
	var mu sync.Mutex
	byTag := map[string]int{}
	c, err := newPushConsumer(a, a.str("group"), topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "TagA"}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			mu.Lock()
			byTag[m.GetTags()]++
			mu.Unlock()
			seen.add(string(m.Body))
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return nil, err
	}
	if err := until(strconv.Itoa(wantA)+" TagA bodies", a.duration("timeoutMs", defaultWait), func() bool { _, d := seen.counts(); return d >= wantA }); err != nil {
		return nil, err
	}
	event("received", map[string]any{})
	if err := awaitWord("done", defaultWait); err != nil {
		return nil, err
	}
	c.Shutdown()
	deliveries, distinct := seen.counts()
	mu.Lock()
	defer mu.Unlock()
	return map[string]any{"sentOk": ok, "deliveries": deliveries, "distinct": distinct, "byTag": byTag}, nil
}

// producerOrderly: perKey messages for each of keys sharding keys, sent with the hash queue
// selector (one queue per key) and consumed by an orderly push consumer: every key's sequence
// numbers must arrive in order.
func producerOrderly(a args) (map[string]any, error) {
	topic := a.str("topic")
	keys := a.integer("keys", 5)
	perKey := a.integer("perKey", 20)
	var msgs []*primitive.Message
	for seq := 0; seq < perKey; seq++ {
		for k := 0; k < keys; k++ {
			key := "order-" + strconv.Itoa(k)
			msgs = append(msgs, primitive.NewMessage(topic, []byte(key+":"+strconv.Itoa(seq))).WithShardingKey(key))
		}
	}
	ok, results, err := sendSync(a, "go_orderly_producer_"+topic, msgs, producer.WithQueueSelector(producer.NewHashQueueSelector()))
	if err != nil {
		return nil, err
	}
	queuesOfKey := map[string]map[int]bool{}
	for i, r := range results {
		key := msgs[i].GetShardingKey()
		if queuesOfKey[key] == nil {
			queuesOfKey[key] = map[int]bool{}
		}
		queuesOfKey[key][r.MessageQueue.QueueId] = true
	}
	keysOnOneQueue := 0
	for _, qs := range queuesOfKey {
		if len(qs) == 1 {
			keysOnOneQueue++
		}
	}
	order := newOrderCheck()
	c, err := newPushConsumer(a, "go_orderly_consumer_"+topic, topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			order.add(string(m.Body))
		}
		return consumer.ConsumeSuccess, nil
	}, consumer.WithConsumerOrder(true))
	if err != nil {
		return nil, err
	}
	defer c.Shutdown()
	total := keys * perKey
	if err := until(strconv.Itoa(total)+" ordered bodies", a.duration("timeoutMs", defaultWait), func() bool { _, d := order.counts(); return d >= total }); err != nil {
		return nil, err
	}
	deliveries, distinct := order.counts()
	return map[string]any{"sentOk": ok, "keysOnOneQueue": keysOnOneQueue, "deliveries": deliveries, "distinct": distinct, "outOfOrder": order.violations()}, nil
}

// orderCheck records "key:seq" bodies and counts every seq not one above its key's previous.
type orderCheck struct {
	tally
	mu      sync.Mutex
	next    map[string]int
	badSeqs int
}

func newOrderCheck() *orderCheck {
	return &orderCheck{tally: tally{bodies: map[string]int{}}, next: map[string]int{}}
}

func (o *orderCheck) add(body string) {
	o.tally.add(body)
	key, seqText, _ := strings.Cut(body, ":")
	seq, _ := strconv.Atoi(seqText)
	o.mu.Lock()
	defer o.mu.Unlock()
	if seq != o.next[key] {
		o.badSeqs++
	}
	o.next[key] = seq + 1
}

func (o *orderCheck) violations() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.badSeqs
}
