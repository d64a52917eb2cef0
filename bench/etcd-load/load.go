// Closed-loop load: `clients` goroutines each send one request and wait for it, over one
// connection per endpoint, round robin per request (what clientv3's balancer does).
package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type opFunc func(ctx context.Context, cli *clientv3.Client, i int64) error

func loadOp(o options) opFunc {
	value := valueOf(o)
	switch o.workload {
	case "put":
		return func(ctx context.Context, cli *clientv3.Client, i int64) error {
			_, err := cli.Put(ctx, keyOf(o, i), value)
			return err
		}
	case "get-ser":
		return func(ctx context.Context, cli *clientv3.Client, i int64) error {
			_, err := cli.Get(ctx, keyOf(o, i%int64(o.keys)), clientv3.WithSerializable())
			return err
		}
	default: // get-lin: clientv3's default Get is linearizable (ReadIndex)
		return func(ctx context.Context, cli *clientv3.Client, i int64) error {
			_, err := cli.Get(ctx, keyOf(o, i%int64(o.keys)))
			return err
		}
	}
}

// preload writes the keys a get workload reads, outside the measured window.
func preload(o options, cli *clientv3.Client) {
	value := valueOf(o)
	for i := 0; i < o.keys; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		_, err := cli.Put(ctx, keyOf(o, int64(i)), value)
		cancel()
		if err != nil {
			fail("preload: %v", err)
		}
	}
}

// worker sends one request at a time until the deadline; it returns the latencies of the
// successful ones.
func worker(o options, clis []*clientv3.Client, op opFunc, deadline time.Time, issued, errors *int64) []time.Duration {
	var lat []time.Duration
	for time.Now().Before(deadline) {
		i := atomic.AddInt64(issued, 1) - 1
		if i >= int64(o.total) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		t0 := time.Now()
		err := op(ctx, clis[i%int64(len(clis))], i)
		cancel()
		if err != nil {
			atomic.AddInt64(errors, 1)
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat
}

func runLoad(o options) map[string]interface{} {
	clis := perEndpoint(o.endpoints)
	defer func() {
		for _, c := range clis {
			c.Close()
		}
	}()
	if o.workload != "put" {
		preload(o, clis[0])
	}
	op := loadOp(o)
	var issued, errors int64
	lat := make([][]time.Duration, o.clients)
	deadline := time.Now().Add(time.Duration(o.seconds * float64(time.Second)))
	cpu0 := cpuSeconds()
	emit(map[string]interface{}{"event": "start"})
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.clients; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); lat[w] = worker(o, clis, op, deadline, &issued, &errors) }(w)
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	emit(map[string]interface{}{"event": "end"})
	cpu := cpuSeconds() - cpu0
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sortDurations(all)
	return map[string]interface{}{
		"ops": len(all), "errors": errors, "seconds": seconds, "opsPerSec": float64(len(all)) / seconds,
		"p50Ms": percentileMs(all, 0.5), "p99Ms": percentileMs(all, 0.99), "maxMs": percentileMs(all, 1),
		"clientCpuSec": cpu,
	}
}
