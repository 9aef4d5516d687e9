package main

import (
	"context"
	"fmt"
	"sync"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

func nameServer(a args) primitive.NsResolver {
	return primitive.NewPassthroughResolver([]string{a.str("namesrv")})
}

// newProducer starts a producer in its own group (the driver names topics per test, so groups
// derived from them never collide between tests).
func newProducer(a args, group string, opts ...producer.Option) (rocketmq.Producer, error) {
	all := append([]producer.Option{
		producer.WithNsResolver(nameServer(a)),
		producer.WithGroupName(group),
		producer.WithInstanceName(group),
		producer.WithRetry(2),
	}, opts...)
	p, err := rocketmq.NewProducer(all...)
	if err != nil {
		return nil, fmt.Errorf("new producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start producer: %w", err)
	}
	return p, nil
}

type listener func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error)

// newPushConsumer subscribes a clustering push consumer from the first offset and starts it.
func newPushConsumer(a args, group, topic string, sel consumer.MessageSelector, l listener, opts ...consumer.Option) (rocketmq.PushConsumer, error) {
	all := append([]consumer.Option{
		consumer.WithNsResolver(nameServer(a)),
		consumer.WithGroupName(group),
		consumer.WithInstance(group),
		consumer.WithConsumerModel(consumer.Clustering),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}, opts...)
	c, err := rocketmq.NewPushConsumer(all...)
	if err != nil {
		return nil, fmt.Errorf("new push consumer: %w", err)
	}
	if err := c.Subscribe(topic, sel, l); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", topic, err)
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start push consumer: %w", err)
	}
	return c, nil
}

// tally counts deliveries and distinct bodies seen by a listener.
type tally struct {
	mu         sync.Mutex
	deliveries int
	bodies     map[string]int
}

func newTally() *tally { return &tally{bodies: map[string]int{}} }

func (t *tally) add(body string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deliveries++
	t.bodies[body]++
}

func (t *tally) counts() (deliveries, distinct int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.deliveries, len(t.bodies)
}
