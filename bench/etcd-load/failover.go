// Failover: a steady put load on all endpoints; after `leader-after` seconds the leader is
// named on stdout and the runner kills it with SIGKILL. Reports the longest gap between two
// acknowledged writes (the time until writes succeeded again) and how many acknowledged
// writes a linearizable read of the whole prefix afterwards does not find.
package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type ack struct {
	at  time.Time
	key string
}

// announceLeader names the endpoint whose member leads, as its own Status answer says.
func announceLeader(o options, cli *clientv3.Client) {
	for attempt := 0; attempt < 50; attempt++ {
		for _, ep := range o.endpoints {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cli.Status(ctx, ep)
			cancel()
			if err == nil && st.Header.MemberId == st.Leader {
				emit(map[string]interface{}{"event": "leader", "endpoint": ep})
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail("no leader found to kill")
}

func putUntil(o options, cli *clientv3.Client, deadline time.Time, issued, errors *int64) []ack {
	value := valueOf(o)
	var acks []ack
	for time.Now().Before(deadline) {
		i := atomic.AddInt64(issued, 1) - 1
		if i >= int64(o.total) {
			break
		}
		key := keyOf(o, i)
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		_, err := cli.Put(ctx, key, value)
		cancel()
		if err != nil {
			atomic.AddInt64(errors, 1)
			time.Sleep(10 * time.Millisecond) // a refused write is retried, not spun on
			continue
		}
		acks = append(acks, ack{time.Now(), key})
	}
	return acks
}

// longestGap is the longest time without an acknowledged write, the run's ends included.
func longestGap(start, end time.Time, acks []ack) time.Duration {
	prev, gap := start, time.Duration(0)
	for _, a := range acks {
		if d := a.at.Sub(prev); d > gap {
			gap = d
		}
		prev = a.at
	}
	if d := end.Sub(prev); d > gap {
		gap = d
	}
	return gap
}

func lostWrites(o options, cli *clientv3.Client, acks []ack) int {
	for attempt := 0; attempt < 10; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := cli.Get(ctx, o.prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		cancel()
		if err != nil {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		found := make(map[string]bool, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			found[string(kv.Key)] = true
		}
		lost := 0
		for _, a := range acks {
			if !found[a.key] {
				lost++
			}
		}
		return lost
	}
	fail("could not read the written keys back")
	return 0
}

func runFailover(o options) map[string]interface{} {
	cli := newClient(o.endpoints)
	defer cli.Close()
	var issued, errors int64
	perWorker := make([][]ack, o.clients)
	start := time.Now()
	deadline := start.Add(time.Duration(o.seconds * float64(time.Second)))
	emit(map[string]interface{}{"event": "start"})
	var wg sync.WaitGroup
	for w := 0; w < o.clients; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); perWorker[w] = putUntil(o, cli, deadline, &issued, &errors) }(w)
	}
	time.Sleep(time.Duration(o.killAfterSec * float64(time.Second)))
	announceLeader(o, cli)
	wg.Wait()
	end := time.Now()
	emit(map[string]interface{}{"event": "end"})
	var acks []ack
	for _, a := range perWorker {
		acks = append(acks, a...)
	}
	sortAcks(acks)
	gap := longestGap(start, end, acks)
	seconds := end.Sub(start).Seconds()
	result := map[string]interface{}{"ops": len(acks), "errors": errors, "seconds": seconds, "opsPerSec": float64(len(acks)) / seconds}
	result["gapMs"] = float64(gap.Microseconds()) / 1000
	result["lost"] = lostWrites(o, cli, acks)
	return result
}
