package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of every Redis Cluster.
const clusterSlots = 16384

// RedisCluster starts a Redis Cluster of nodes primaries (no replicas) on
// loopback, private to t and stopped when t ends, and returns its seed URL
// in the form webhookd's --redis-cluster takes:
// redis://127.0.0.1:P1?addr=127.0.0.1:P2&addr=127.0.0.1:P3.
//
// The nodes are the redis-server of WEBHOOKD_TEST_REDIS_SERVER in cluster
// mode; the slots are split evenly and the nodes introduced with CLUSTER
// ADDSLOTSRANGE and CLUSTER MEET, so redis-cli is not needed.
func RedisCluster(t testing.TB, nodes int) string {
	t.Helper()
	bin := RedisServer(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	addrs := make([]string, nodes)
	busPorts := make([]int, nodes)
	clients := make([]*redis.Client, nodes)
	for i := range nodes {
		// The cluster bus port is chosen too: the default, port+10000,
		// may be taken or beyond 65535.
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		busPort, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i], busPorts[i] = "127.0.0.1:"+strconv.Itoa(port), busPort
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(busPort),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			"--dir", dir, "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting redis-server in cluster mode: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		clients[i] = redis.NewClient(&redis.Options{Addr: addrs[i]})
		t.Cleanup(func() { _ = clients[i].Close() })
		if err := waitFor(ctx, func() error { return clients[i].Ping(ctx).Err() }); err != nil {
			t.Fatalf("redis-server on %s does not answer: %v", addrs[i], err)
		}
	}
	for i, c := range clients {
		first, last := i*clusterSlots/nodes, (i+1)*clusterSlots/nodes-1
		if err := c.ClusterAddSlotsRange(ctx, first, last).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE on %s: %v", addrs[i], err)
		}
		if i > 0 {
			host, port, _ := net.SplitHostPort(addrs[i])
			if err := clients[0].Do(ctx, "CLUSTER", "MEET", host, port, busPorts[i]).Err(); err != nil {
				t.Fatalf("CLUSTER MEET %s: %v", addrs[i], err)
			}
		}
	}
	for i, c := range clients {
		err := waitFor(ctx, func() error {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", nodes)) {
				return fmt.Errorf("not ready:\n%s", info)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("cluster node %s: %v", addrs[i], err)
		}
	}
	return "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
}

// waitFor calls f every 50 ms until it succeeds or ctx ends.
func waitFor(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
