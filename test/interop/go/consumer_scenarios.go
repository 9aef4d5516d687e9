package main

import (
	"context"
	"strconv"
	"sync"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// consumerPush: a push consumer from the first offset on a topic the driver fills with tsmq's own
// producer: first batch1 messages before it starts, then (after the "firstBatch" event) batch2
// while it is running. Checks body, tag, keys and a user property of each message.
func consumerPush(a args) (map[string]any, error) {
	topic := a.str("topic")
	batch1 := a.integer("batch1", 50)
	batch2 := a.integer("batch2", 50)
	seen := newTally()
	var mu sync.Mutex
	fieldsOk := 0
	c, err := newPushConsumer(a, "go_push_consumer_"+topic, topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			body := string(m.Body)
			// The driver sends body "push-<i>", tag "T<i%2>", keys "key-<i>", property seq=<i>.
			i, err := strconv.Atoi(m.GetProperty("seq"))
			if err == nil && body == "push-"+strconv.Itoa(i) && m.GetTags() == "T"+strconv.Itoa(i%2) && m.GetKeys() == "key-"+strconv.Itoa(i) {
				mu.Lock()
				fieldsOk++
				mu.Unlock()
			}
			seen.add(body)
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return nil, err
	}
	defer c.Shutdown()
	wait := a.duration("timeoutMs", defaultWait)
	if err := until(strconv.Itoa(batch1)+" first-batch bodies", wait, func() bool { _, d := seen.counts(); return d >= batch1 }); err != nil {
		return nil, err
	}
	event("firstBatch", map[string]any{})
	total := batch1 + batch2
	if err := until(strconv.Itoa(total)+" bodies", wait, func() bool { _, d := seen.counts(); return d >= total }); err != nil {
		return nil, err
	}
	deliveries, distinct := seen.counts()
	mu.Lock()
	defer mu.Unlock()
	return map[string]any{"deliveries": deliveries, "distinct": distinct, "fieldsOk": fieldsOk}, nil
}

// consumerRetry: count messages; the listener answers ConsumeRetryLater to each message's first
// delivery (delay level 1, one second) and ConsumeSuccess to its redelivery, which must come back
// with ReconsumeTimes 1 and the original body.
func consumerRetry(a args) (map[string]any, error) {
	topic := a.str("topic")
	count := a.integer("count", 20)
	msgs := make([]*primitive.Message, count)
	for i := range msgs {
		msgs[i] = primitive.NewMessage(topic, []byte("retry-"+strconv.Itoa(i))).WithTag("R").WithKeys([]string{"rk" + strconv.Itoa(i)})
	}
	ok, _, err := sendSync(a, "go_retry_producer_"+topic, msgs)
	if err != nil {
		return nil, err
	}
	first, redelivered := newTally(), newTally()
	var mu sync.Mutex
	reconsumeTimes := map[string]int{}
	c, err := newPushConsumer(a, "go_retry_consumer_"+topic, topic, consumer.MessageSelector{}, func(ctx context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		m := ms[0]
		if m.ReconsumeTimes == 0 {
			first.add(string(m.Body))
			cc, _ := primitive.GetConcurrentlyCtx(ctx)
			cc.DelayLevelWhenNextConsume = 1
			return consumer.ConsumeRetryLater, nil
		}
		mu.Lock()
		reconsumeTimes[strconv.Itoa(int(m.ReconsumeTimes))]++
		mu.Unlock()
		redelivered.add(string(m.Body))
		return consumer.ConsumeSuccess, nil
	}, consumer.WithConsumeMessageBatchMaxSize(1))
	if err != nil {
		return nil, err
	}
	defer c.Shutdown()
	if err := until(strconv.Itoa(count)+" redelivered bodies", a.duration("timeoutMs", defaultWait), func() bool { _, d := redelivered.counts(); return d >= count }); err != nil {
		return nil, err
	}
	firstDeliveries, firstDistinct := first.counts()
	redeliveries, redeliveredDistinct := redelivered.counts()
	mu.Lock()
	defer mu.Unlock()
	return map[string]any{"sentOk": ok, "firstDeliveries": firstDeliveries, "firstDistinct": firstDistinct, "redeliveries": redeliveries, "redeliveredDistinct": redeliveredDistinct, "reconsumeTimes": reconsumeTimes}, nil
}
