package nats_test

// Provisioning as a library call, on a private server (an empty one, so
// the first run creates everything): a second run changes nothing, a
// changed plan is shown by a dry run and applied after, and a change that
// would lose stored records is refused unless allowed.

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"ampyfin.dev/ampybus/natsbus"
)

func TestProvisionCreatesThenChangesNothingThenShowsAChange(t *testing.T) {
	srv := startServer(t)
	b, err := natsbus.Connect(srv.url(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	plans, err := natsbus.Plans(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 14 { // 13 payload domains and the dlq
		t.Fatalf("%d streams planned", len(plans))
	}

	first, err := b.Provision(ctx, natsbus.ProvisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed() || first.Differs() != 14 || !strings.HasSuffix(first.String(), "14 streams: 14 created, 0 updated, 0 unchanged\n") {
		t.Fatalf("first run:\n%s", first)
	}
	second, err := b.Provision(ctx, natsbus.ProvisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed() || second.Differs() != 0 || !strings.HasSuffix(second.String(), "; nothing to change\n") {
		t.Fatalf("second run:\n%s", second)
	}
	// The streams on the server are the plan's.
	for _, p := range plans {
		s, err := b.JetStream().Stream(ctx, p.Name)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		cfg := s.CachedInfo().Config
		if strings.Join(cfg.Subjects, ",") != strings.Join(p.Subjects, ",") || cfg.Duplicates != p.DuplicateWindow || cfg.MaxAge != p.MaxAge {
			t.Errorf("%s: server %v %v %v, plan %v %v %v", p.Name, cfg.Subjects, cfg.Duplicates, cfg.MaxAge, p.Subjects, p.DuplicateWindow, p.MaxAge)
		}
	}

	// A registry edit, as the plan sees it: a longer duplicate window on
	// bars is an in-place update; a dry run shows it and changes nothing.
	edited := append([]natsbus.StreamPlan(nil), plans...)
	var bars *natsbus.StreamPlan
	for i := range edited {
		if edited[i].Name == "AMPY_DEV_BARS_V1" {
			bars = &edited[i]
		}
	}
	bars.DuplicateWindow += time.Minute
	dry, err := natsbus.Provision(ctx, b.JetStream(), edited, natsbus.ProvisionOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Changed() || dry.Differs() != 1 || !regexp.MustCompile(`(?m)^AMPY_DEV_BARS_V1 +would update\n +duplicate_window: 2m -> 3m$`).MatchString(dry.String()) {
		t.Fatalf("dry run:\n%s", dry)
	}
	applied, err := natsbus.Provision(ctx, b.JetStream(), edited, natsbus.ProvisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !applied.Changed() || applied.Differs() != 1 {
		t.Fatalf("apply:\n%s", applied)
	}
	s, err := b.JetStream().Stream(ctx, "AMPY_DEV_BARS_V1")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Duplicates; got != bars.DuplicateWindow {
		t.Errorf("duplicate window on the server %v, want %v", got, bars.DuplicateWindow)
	}

	// Shorter retention would drop records: refused, then allowed.
	bars.MaxAge = time.Hour
	refused, err := natsbus.Provision(ctx, b.JetStream(), edited, natsbus.ProvisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !refused.Refused() || refused.Changed() || !strings.Contains(refused.String(), "(loses stored records)") {
		t.Fatalf("refusal:\n%s", refused)
	}
	allowed, err := natsbus.Provision(ctx, b.JetStream(), edited, natsbus.ProvisionOptions{AllowDataLoss: true})
	if err != nil {
		t.Fatal(err)
	}
	if allowed.Refused() || !allowed.Changed() {
		t.Fatalf("allowed:\n%s", allowed)
	}
}
