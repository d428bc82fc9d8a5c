package nats_test

// A server restart in the middle of a publish run loses no acknowledged
// record. The test runs its own nats-server (the binary scripts/lib/nats.sh
// found, AMPY_NATS_SERVER) on a free 127.0.0.1 port with its store in a
// temporary folder, so restarting it disturbs no other test.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ampyfin.dev/ampybus/natsbus"
)

type server struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

func startServer(t *testing.T) *server {
	t.Helper()
	bin := os.Getenv("AMPY_NATS_SERVER")
	if bin == "" {
		if os.Getenv("AMPYGEN_TEST_REQUIRE_NATS") == "1" {
			t.Fatal("AMPY_NATS_SERVER is not set: scripts/test exports it (scripts/lib/nats.sh)")
		}
		t.Skip("no nats-server binary: set AMPY_NATS_SERVER (scripts/test does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &server{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port),
		"-sd", filepath.Join(s.dir, "store"), "-l", filepath.Join(s.dir, "nats.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port)); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("nats-server did not listen")
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func TestAServerRestartMidRunLosesNoAcknowledgedRecord(t *testing.T) {
	if os.Getenv("AMPY_NATS_URL") == "" && os.Getenv("AMPYGEN_TEST_REQUIRE_NATS") != "1" {
		t.Skip("no NATS server: scripts/test starts one")
	}
	srv := startServer(t)
	b, err := natsbus.Connect(srv.url(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, err := b.Provision(ctx, natsbus.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := natsbus.NewPublisher(b, natsbus.BarsV1Bars, natsbus.PublisherOptions{Producer: "go-test@1",
		Retry: natsbus.RetryPolicy{Attempts: 20, AckTimeout: time.Second, BaseDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	progress := make(chan int, n)
	type result struct {
		acked  []string
		failed int
	}
	done := make(chan result)
	go func() {
		var r result
		for i := range n {
			if sent, err := p.Publish(ctx, bars(fmt.Sprintf("S%d", i))); err == nil {
				r.acked = append(r.acked, sent.MessageID)
			} else {
				r.failed++
			}
			progress <- i
		}
		done <- r
	}()
	// Restart once a quarter of the run is through.
	for i := range progress {
		if i >= n/4 {
			break
		}
	}
	srv.stop()
	time.Sleep(300 * time.Millisecond)
	srv.start()
	r := <-done

	s, err := b.JetStream().Stream(ctx, "AMPY_DEV_BARS_V1")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Header.Get("Nats-Msg-Id")] = true
	}
	lost := 0
	for _, id := range r.acked {
		if !ids[id] {
			lost++
		}
	}
	t.Logf("restart: %d publishes, %d acknowledged, %d failed, %d stored, %d lost, %d reconnects", n, len(r.acked), r.failed,
		info.State.Msgs, lost, b.Conn().Stats().Reconnects)
	if b.Conn().Stats().Reconnects == 0 {
		t.Error("the connection never reconnected: the restart did not happen mid-run")
	}
	if lost != 0 {
		t.Errorf("%d acknowledged records are not stored", lost)
	}
	if len(r.acked) < n*3/4 {
		t.Errorf("only %d of %d acknowledged: the publisher did not ride out the restart", len(r.acked), n)
	}
	if int(info.State.Msgs) != len(ids) {
		t.Errorf("%d records for %d message ids", info.State.Msgs, len(ids))
	}
}
