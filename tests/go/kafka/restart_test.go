package kafka_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
)

// printObserver prints `handled <message_id>`-style lines: the child
// process tells the parent when a handler has succeeded.
type printObserver struct{ kafkabus.NoObserver }

func (printObserver) Consumed(topic, consumer string) {
	os.Stdout.WriteString("consumed " + topic + " " + consumer + "\n")
}

// TestHelperKilledConsumer is the child of
// TestAConsumerKilledBeforeCommitRedeliversOnRestart, not a test itself:
// it handles records with a commit interval of an hour, so nothing is
// committed when the parent kills it.
func TestHelperKilledConsumer(t *testing.T) {
	if os.Getenv("KAFKABUS_TEST_CHILD") != "1" {
		t.Skip("run by TestAConsumerKilledBeforeCommitRedeliversOnRestart")
	}
	b, _ := open(t)
	b.WithObserver(printObserver{})
	c := consumer(t, b, "go-killed", kafkabus.ConsumerOptions{CommitInterval: time.Hour})
	_, _ = c.Run(context.Background(), func(context.Context, *kafkabus.Delivery[*barsv1.BarBatch]) error { return nil })
}

func TestAConsumerKilledBeforeCommitRedeliversOnRestart(t *testing.T) {
	b, _, adm := connect(t)
	sent, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(context.Background(), bars("KILL", 0))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledConsumer$", "-test.v")
	cmd.Env = append(os.Environ(), "KAFKABUS_TEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	handled := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "consumed bars.v1.bars go-killed") {
				handled <- true
				return
			}
		}
		handled <- false
	}()
	select {
	case ok := <-handled:
		if !ok {
			t.Fatal("the child ended without handling the record")
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not handle the record within 60 s")
	}
	// Killed after the handler succeeded, before any commit.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if got := committed(t, adm, "go-killed", barsTopic, sent.Partition); got != -1 {
		t.Fatalf("committed %d before the kill", got)
	}
	// A new member of the group gets the record again (after the broker
	// drops the killed member at its session timeout).
	var again []string
	drain(t, consumer(t, b, "go-killed", kafkabus.ConsumerOptions{}), func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		again = append(again, d.Headers.MessageID)
		return nil
	}, 10*time.Second)
	if len(again) != 1 || again[0] != sent.MessageID {
		t.Fatalf("redelivered %v, want [%s]", again, sent.MessageID)
	}
	if got := committed(t, adm, "go-killed", barsTopic, sent.Partition); got != sent.Offset+1 {
		t.Errorf("committed %d after the restart, want %d", got, sent.Offset+1)
	}
}
