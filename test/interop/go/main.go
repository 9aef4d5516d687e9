// The Go interop peer: the official Apache RocketMQ Go client (rocketmq-client-go/v2) driven by
// test/interop/go-peer.ts. One scenario per process, chosen by the first argument; the rest are
// key=value arguments. The line protocol is the Java peer's: "EVENT <name> {json}" while running,
// one "RESULT {json}" at the end, "ERROR <text>" when the scenario failed (exit code 1). The
// driver may write words on stdin that a scenario waits for (awaitWord).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/rlog"
)

// pollInterval is how often a condition wait re-checks its condition.
const pollInterval = 10 * time.Millisecond

type args map[string]string

type scenario func(a args) (map[string]any, error)

var scenarios = map[string]scenario{
	"producer.sync":    producerSync,
	"producer.tags":    producerTags,
	"producer.orderly": producerOrderly,
	"consumer.push":    consumerPush,
	"consumer.retry":   consumerRetry,
}

var outMu sync.Mutex

func event(name string, data map[string]any) {
	line, _ := json.Marshal(data)
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Printf("EVENT %s %s\n", name, line)
}

func result(data map[string]any) {
	line, _ := json.Marshal(data)
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Printf("RESULT %s\n", line)
}

func (a args) str(key string) string {
	v, ok := a[key]
	if !ok {
		fail(fmt.Errorf("missing argument %s", key))
	}
	return v
}

func (a args) integer(key string, fallback int) int {
	v, ok := a[key]
	if !ok {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fail(fmt.Errorf("argument %s=%q is not an integer", key, v))
	}
	return n
}

func (a args) duration(key string, fallback time.Duration) time.Duration {
	return time.Duration(a.integer(key, int(fallback/time.Millisecond))) * time.Millisecond
}

// until polls check until it holds, or fails with what was awaited after timeout.
func until(what string, timeout time.Duration, check func() bool) error {
	deadline := time.Now().Add(timeout)
	for !check() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
	return nil
}

var stdin = bufio.NewScanner(os.Stdin)

// awaitWord blocks until the driver writes word on a line of stdin (other lines are ignored).
func awaitWord(word string, timeout time.Duration) error {
	got := make(chan bool, 1)
	go func() {
		for stdin.Scan() {
			if strings.TrimSpace(stdin.Text()) == word {
				got <- true
				return
			}
		}
		got <- false
	}()
	select {
	case ok := <-got:
		if !ok {
			return fmt.Errorf("stdin closed before the driver sent %q", word)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("driver did not send %q within %v", word, timeout)
	}
}

func fail(err error) {
	outMu.Lock()
	fmt.Printf("ERROR %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	outMu.Unlock()
	os.Exit(1)
}

func main() {
	rlog.SetLogLevel("warn")
	if len(os.Args) < 2 || scenarios[os.Args[1]] == nil {
		names := make([]string, 0, len(scenarios))
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: goclient <scenario> key=value...\nscenarios: %s\n", strings.Join(names, " "))
		os.Exit(2)
	}
	a := args{}
	for _, kv := range os.Args[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fail(fmt.Errorf("argument is not key=value: %s", kv))
		}
		a[k] = v
	}
	res, err := scenarios[os.Args[1]](a)
	if err != nil {
		fail(err)
	}
	result(res)
}
