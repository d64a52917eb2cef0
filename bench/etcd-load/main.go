// etcd-load: the etcd side of `npm run bench`, a small load generator on Go clientv3 (etcd's
// own, fastest client). One workload per run; it prints JSON lines on stdout: {"event":"start"}
// and {"event":"end"} around the measured window (the runner samples server CPU there), for
// failover {"event":"leader"}, and last {"event":"result",...}. bench/cairn-load.ts is its twin.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type options struct {
	endpoints    []string
	workload     string
	clients      int
	seconds      float64
	total        int
	valueSize    int
	keys         int
	watchers     int
	watchConns   int
	watchRounds  int
	timeout      time.Duration
	prefix       string
	killAfterSec float64
}

func parseFlags() options {
	var o options
	var endpoints string
	var timeoutMs int
	flag.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "comma-separated client URLs")
	flag.StringVar(&o.workload, "workload", "put", "put | get-lin | get-ser | watch | failover")
	flag.IntVar(&o.clients, "clients", 64, "requests in flight")
	flag.Float64Var(&o.seconds, "duration", 5, "seconds of load")
	flag.IntVar(&o.total, "total", 1_000_000, "at most this many requests")
	flag.IntVar(&o.valueSize, "value-size", 256, "bytes per value")
	flag.IntVar(&o.keys, "keys", 1000, "keys written before a get workload")
	flag.IntVar(&o.watchers, "watchers", 1000, "watchers on one key")
	flag.IntVar(&o.watchConns, "watch-conns", 10, "connections the watchers are spread over")
	flag.IntVar(&o.watchRounds, "watch-rounds", 5, "puts to time, each awaited by every watcher")
	flag.IntVar(&timeoutMs, "timeout-ms", 5000, "deadline of one request")
	flag.StringVar(&o.prefix, "prefix", fmt.Sprintf("/bench/%d", time.Now().UnixNano()), "key prefix of this run")
	flag.Float64Var(&o.killAfterSec, "leader-after", 1.5, "failover: seconds of load before naming the leader")
	flag.Parse()
	o.endpoints = strings.Split(endpoints, ",")
	o.timeout = time.Duration(timeoutMs) * time.Millisecond
	return o
}

var outMu sync.Mutex

func emit(v map[string]interface{}) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "etcd-load: "+format+"\n", args...)
	os.Exit(1)
}

// newClient opens clientv3 on the given endpoints and waits until a request goes through.
func newClient(endpoints []string) *clientv3.Client {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		fail("connect %v: %v", endpoints, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Get(ctx, "/bench/ping"); err != nil {
		fail("first request to %v: %v", endpoints, err)
	}
	return cli
}

// perEndpoint opens one connection per endpoint, so the load is spread like cairn-load's.
func perEndpoint(endpoints []string) []*clientv3.Client {
	clis := make([]*clientv3.Client, len(endpoints))
	for i, ep := range endpoints {
		clis[i] = newClient([]string{ep})
	}
	return clis
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func percentileMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * p)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i].Microseconds()) / 1000
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// exitOnStdinEOF ends the process when the runner goes away (its pipe closes), so no load
// generator outlives an interrupted bench.
func exitOnStdinEOF() {
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
}

func main() {
	o := parseFlags()
	exitOnStdinEOF()
	var result map[string]interface{}
	switch o.workload {
	case "put", "get-lin", "get-ser":
		result = runLoad(o)
	case "watch":
		result = runWatch(o)
	case "failover":
		result = runFailover(o)
	default:
		fail("unknown workload %q", o.workload)
	}
	result["event"] = "result"
	result["workload"] = o.workload
	emit(result)
}

// keyOf names the i-th key of this run; every put writes a key of its own.
func keyOf(o options, i int64) string { return fmt.Sprintf("%s/%d", o.prefix, i) }

func valueOf(o options) string { return strings.Repeat("x", o.valueSize) }

func sortAcks(a []ack) {
	sort.Slice(a, func(i, j int) bool { return a[i].at.Before(a[j].at) })
}
