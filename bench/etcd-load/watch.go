// Watch fan-out: `watchers` watches on one key over `watch-conns` connections spread over the
// members; each round is one put, timed from sending it until the last watcher has its event.
package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type fanout struct {
	want   int64
	counts []int64
	doneAt []time.Time
	done   []chan struct{}
}

func newFanout(watchers, rounds int) *fanout {
	f := &fanout{want: int64(watchers), counts: make([]int64, rounds+1), doneAt: make([]time.Time, rounds+1), done: make([]chan struct{}, rounds+1)}
	for i := range f.done {
		f.done[i] = make(chan struct{})
	}
	return f
}

// seen counts one watcher's event for `round`; the last one records the time and signals.
func (f *fanout) seen(round int) {
	if round < 0 || round >= len(f.counts) {
		return
	}
	if atomic.AddInt64(&f.counts[round], 1) == f.want {
		f.doneAt[round] = time.Now()
		close(f.done[round])
	}
}

func (f *fanout) watch(ch clientv3.WatchChan) {
	for resp := range ch {
		for _, ev := range resp.Events {
			round, err := strconv.Atoi(strings.TrimPrefix(string(ev.Kv.Value), "round-"))
			if err == nil {
				f.seen(round)
			}
		}
	}
}

// round puts "round-r" and returns how long until every watcher had it.
func (f *fanout) round(o options, writer *clientv3.Client, key string, r int) time.Duration {
	sent := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	_, err := writer.Put(ctx, key, fmt.Sprintf("round-%d", r))
	cancel()
	if err != nil {
		fail("watch put: %v", err)
	}
	select {
	case <-f.done[r]:
		return f.doneAt[r].Sub(sent)
	case <-time.After(30 * time.Second):
		fail("round %d: only %d of %d watchers notified within 30 s", r, atomic.LoadInt64(&f.counts[r]), f.want)
	}
	return 0
}

func runWatch(o options) map[string]interface{} {
	key := o.prefix + "/watched"
	writer := newClient(o.endpoints)
	defer writer.Close()
	conns := make([]*clientv3.Client, o.watchConns)
	for j := range conns {
		conns[j] = newClient([]string{o.endpoints[j%len(o.endpoints)]})
		defer conns[j].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	resp, err := writer.Get(ctx, key)
	cancel()
	if err != nil {
		fail("watch get: %v", err)
	}
	f := newFanout(o.watchers, o.watchRounds)
	watchCtx, stop := context.WithCancel(context.Background())
	defer stop()
	for w := 0; w < o.watchers; w++ {
		go f.watch(conns[w%len(conns)].Watch(watchCtx, key, clientv3.WithRev(resp.Header.Revision+1)))
	}
	f.round(o, writer, key, 0) // warm-up: every watch is registered once all have seen it
	cpu0 := cpuSeconds()
	emit(map[string]interface{}{"event": "start"})
	start := time.Now()
	samples := make([]time.Duration, 0, o.watchRounds)
	for r := 1; r <= o.watchRounds; r++ {
		time.Sleep(50 * time.Millisecond)
		samples = append(samples, f.round(o, writer, key, r))
	}
	seconds := time.Since(start).Seconds()
	emit(map[string]interface{}{"event": "end"})
	cpu := cpuSeconds() - cpu0
	ms := make([]float64, len(samples))
	for i, s := range samples {
		ms[i] = float64(s.Microseconds()) / 1000
	}
	sortDurations(samples)
	return map[string]interface{}{
		"ops": len(samples), "errors": 0, "seconds": seconds, "opsPerSec": float64(len(samples)) / seconds,
		"p50Ms": percentileMs(samples, 0.5), "p99Ms": percentileMs(samples, 0.99), "maxMs": percentileMs(samples, 1),
		"samplesMs": ms, "clientCpuSec": cpu,
	}
}
