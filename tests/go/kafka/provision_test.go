package kafka_test

// Provisioning as a library call (kafkabus.Provision) on the real broker:
// the env's plans under a fresh name prefix (so they are new on a shared
// broker) are created, left alone, grown, refused and applied, each claim
// checked with a raw admin client; and for the same broker state the
// report's text is exactly what `ampygen provision kafka --dry-run`
// prints (the Rust runtime's Display), on env prod's own topics, deleted
// first (no other test uses env prod on Kafka).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
)

// uniquePlans are env paper's plans with the env part of every name
// replaced by a new one: the same topics, settings and order, never seen
// by the broker before.
func uniquePlans(t *testing.T) []kafkabus.TopicPlan {
	t.Helper()
	plans, err := kafkabus.Plans(env)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("ampy.goprov%d.", time.Now().UnixNano())
	// The topics stay on the broker after the test, as the Rust tests'
	// do: deleting some 80 partitions at once keeps a one-node broker busy
	// long enough that a topic the next test re-creates is not hosted yet
	// (its produce fails with UNKNOWN_TOPIC_ID).
	for i := range plans {
		if !strings.HasPrefix(plans[i].Name, "ampy.paper.") {
			t.Fatalf("plan %q is not of env paper", plans[i].Name)
		}
		plans[i].Name = prefix + strings.TrimPrefix(plans[i].Name, "ampy.paper.")
	}
	return plans
}

// deleteTopics deletes topics and waits until the metadata no longer
// lists them.
func deleteTopics(t testing.TB, adm *kadm.Client, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopics(ctx, topics...); err != nil {
		t.Fatal(err)
	}
	for {
		tds, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), topics...)
		gone := err == nil
		for _, td := range tds {
			gone = gone && errors.Is(td.Err, kerr.UnknownTopicOrPartition)
		}
		if gone {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("topics still listed after deleting them: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// brokerTopic is what the broker says about one topic.
type brokerTopic struct {
	exists            bool
	partitions        int
	replicationFactor int
	configs           map[string]string
}

func describeTopic(t testing.TB, adm *kadm.Client, topic string) brokerTopic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Fresh metadata, not kadm's cache of up to 5 s.
	tds, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), topic)
	if err != nil {
		t.Fatal(err)
	}
	td := tds[topic]
	if td.Err != nil {
		if !errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			t.Fatalf("%s: %v", topic, td.Err)
		}
		return brokerTopic{}
	}
	out := brokerTopic{exists: true, partitions: len(td.Partitions), configs: map[string]string{}}
	for _, p := range td.Partitions {
		out.replicationFactor = max(out.replicationFactor, len(p.Replicas))
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			out.configs[c.Key] = c.MaybeValue()
		}
	}
	return out
}

// waitFor polls the broker until cond holds (at most 15 s): an admin
// change the test makes is visible to the next reader.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("the broker never showed %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func provision(t *testing.T, adm *kadm.Client, plans []kafkabus.TopicPlan, o kafkabus.ProvisionOptions) *kafkabus.ProvisionReport {
	t.Helper()
	o.Timeout = 10 * time.Second
	r, err := kafkabus.Provision(context.Background(), adm, plans, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func planNamed(t *testing.T, plans []kafkabus.TopicPlan, suffix string) *kafkabus.TopicPlan {
	t.Helper()
	for i := range plans {
		if strings.HasSuffix(plans[i].Name, suffix) {
			return &plans[i]
		}
	}
	t.Fatalf("no plan %s", suffix)
	return nil
}

func reportOf(t *testing.T, r *kafkabus.ProvisionReport, name string) kafkabus.TopicReport {
	t.Helper()
	for _, tr := range r.Topics {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no topic %s in the report:\n%s", name, r)
	return kafkabus.TopicReport{}
}

func TestProvisionCreatesChangesNothingGrowsAndRefuses(t *testing.T) {
	bootstrap(t)
	adm := admin(t)
	plans := uniquePlans(t)
	if len(plans) != 14 { // 13 payload domains and the dlq
		t.Fatalf("%d topics planned", len(plans))
	}
	dlq := planNamed(t, plans, ".dlq.v1")

	// A dry run on an empty broker reports every topic and creates none.
	dry := provision(t, adm, plans, kafkabus.ProvisionOptions{DryRun: true})
	if dry.Changed() || dry.Differs() != 14 || !strings.HasSuffix(dry.String(), "\n14 topics: 14 would change, 0 unchanged\n") ||
		reportOf(t, dry, dlq.Name).Outcome != kafkabus.OutcomePlanned {
		t.Fatalf("dry run:\n%s", dry)
	}
	for _, p := range plans {
		if describeTopic(t, adm, p.Name).exists {
			t.Fatalf("the dry run created %s", p.Name)
		}
	}

	// The first run creates every topic, the DLQ topic included, with the
	// plan's partitions, replication factor and configs.
	first := provision(t, adm, plans, kafkabus.ProvisionOptions{})
	if !first.Changed() || first.Refused() || first.Differs() != 14 ||
		!strings.HasSuffix(first.String(), "\n14 topics: 14 created, 0 updated, 0 unchanged\n") ||
		!regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(dlq.Name)+` +created$`).MatchString(first.String()) {
		t.Fatalf("first run:\n%s", first)
	}
	for _, p := range plans {
		got := describeTopic(t, adm, p.Name)
		if !got.exists || got.partitions != int(p.Partitions) || got.replicationFactor != int(p.ReplicationFactor) {
			t.Errorf("%s on the broker: %+v, plan %d partitions, replication %d", p.Name, got, p.Partitions, p.ReplicationFactor)
		}
		if len(p.Configs) != 5 {
			t.Errorf("%s: %d configs planned: %v", p.Name, len(p.Configs), p.Configs)
		}
		for k, v := range p.Configs {
			if got.configs[k] != v {
				t.Errorf("%s: %s is %q on the broker, plan %q", p.Name, k, got.configs[k], v)
			}
		}
	}

	// A second run finds nothing to change.
	second := provision(t, adm, plans, kafkabus.ProvisionOptions{})
	if second.Changed() || second.Differs() != 0 || !strings.HasSuffix(second.String(), "\n14 topics: 0 created, 0 updated, 14 unchanged; nothing to change\n") {
		t.Fatalf("second run:\n%s", second)
	}

	// More partitions: a dry run shows the change, flagged, and changes
	// nothing; applied, the broker has them.
	bars := planNamed(t, plans, ".bars.v1")
	before := bars.Partitions
	bars.Partitions = before + 2
	grow := fmt.Sprintf(`(?m)^%s +%%s\n +partitions: %d -> %d  \(moves keys to other partitions: a key's older records stay where they were\)$`,
		regexp.QuoteMeta(bars.Name), before, bars.Partitions)
	dryGrow := provision(t, adm, plans, kafkabus.ProvisionOptions{DryRun: true})
	if dryGrow.Changed() || dryGrow.Differs() != 1 || !regexp.MustCompile(fmt.Sprintf(grow, "would update")).MatchString(dryGrow.String()) {
		t.Fatalf("dry run of more partitions:\n%s", dryGrow)
	}
	if got := describeTopic(t, adm, bars.Name).partitions; got != int(before) {
		t.Fatalf("the dry run changed the partitions: %d", got)
	}
	grown := provision(t, adm, plans, kafkabus.ProvisionOptions{})
	if tr := reportOf(t, grown, bars.Name); !grown.Changed() || grown.Differs() != 1 || tr.Outcome != kafkabus.OutcomeApplied ||
		tr.Changes[0].Effect != kafkabus.EffectMovesKeys || !regexp.MustCompile(fmt.Sprintf(grow, "updated")).MatchString(grown.String()) {
		t.Fatalf("more partitions:\n%s", grown)
	}
	if got := describeTopic(t, adm, bars.Name).partitions; got != int(bars.Partitions) {
		t.Fatalf("%d partitions on the broker after growing to %d", got, bars.Partitions)
	}

	// Fewer partitions: refused, nothing changed.
	bars.Partitions = before
	shrink := provision(t, adm, plans, kafkabus.ProvisionOptions{AllowDataLoss: true})
	tr := reportOf(t, shrink, bars.Name)
	if shrink.Changed() || !shrink.Refused() || tr.Outcome != kafkabus.OutcomeRefused || tr.Changes[0].Effect != kafkabus.EffectImpossible ||
		!strings.Contains(shrink.String(), fmt.Sprintf("partitions: %d -> %d  (Kafka cannot remove partitions: keep %d in the registry", before+2, before, before+2)) ||
		!strings.HasSuffix(shrink.String(), ", 1 refused (Kafka cannot apply them)\n") {
		t.Fatalf("fewer partitions:\n%s", shrink)
	}
	if got := describeTopic(t, adm, bars.Name).partitions; got != int(before+2) {
		t.Fatalf("%d partitions on the broker after a refused shrink", got)
	}
	bars.Partitions = before + 2

	// A shorter retention loses stored records: refused without
	// AllowDataLoss (while a longer one on another topic is applied),
	// applied with it.
	news := planNamed(t, plans, ".news.v1")
	ticks := planNamed(t, plans, ".ticks.v1")
	newsWas := news.Configs["retention.ms"]
	news.Configs["retention.ms"] = "3600000"
	ticks.Configs["retention.ms"] = "-1"
	lossy := provision(t, adm, plans, kafkabus.ProvisionOptions{})
	if lossy.Differs() != 2 || !lossy.Refused() || reportOf(t, lossy, news.Name).Outcome != kafkabus.OutcomeRefused ||
		reportOf(t, lossy, ticks.Name).Outcome != kafkabus.OutcomeApplied ||
		!strings.Contains(lossy.String(), fmt.Sprintf("retention.ms: %s -> 3600000  (loses stored records)\n", newsWas)) ||
		!strings.HasSuffix(lossy.String(), "\n14 topics: 0 created, 1 updated, 12 unchanged, 1 refused (they would lose stored records; pass --allow-data-loss to apply)\n") {
		t.Fatalf("shorter retention without AllowDataLoss:\n%s", lossy)
	}
	if got := describeTopic(t, adm, news.Name).configs["retention.ms"]; got != newsWas {
		t.Fatalf("retention.ms %s on the broker after a refusal", got)
	}
	if got := describeTopic(t, adm, ticks.Name).configs["retention.ms"]; got != "-1" {
		t.Fatalf("the longer retention was not applied: %s", got)
	}
	allowed := provision(t, adm, plans, kafkabus.ProvisionOptions{AllowDataLoss: true})
	if allowed.Refused() || !allowed.Changed() || allowed.Differs() != 1 || reportOf(t, allowed, news.Name).Outcome != kafkabus.OutcomeApplied {
		t.Fatalf("shorter retention with AllowDataLoss:\n%s", allowed)
	}
	if got := describeTopic(t, adm, news.Name); got.configs["retention.ms"] != "3600000" || got.configs["max.message.bytes"] != news.Configs["max.message.bytes"] {
		t.Fatalf("after the allowed change the broker has %v", got.configs)
	}
	if last := provision(t, adm, plans, kafkabus.ProvisionOptions{}); last.Differs() != 0 {
		t.Fatalf("after applying everything:\n%s", last)
	}
}

func TestAnEnvWithoutTopicsIsAConfigError(t *testing.T) {
	if _, err := kafkabus.Plans("nowhere"); kafkabus.KindOf(err) != kafkabus.KindConfig || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("plans of an unknown env: %v", err)
	}
}

func TestDocsShowTheProvisionExample(t *testing.T) {
	page, err := os.ReadFile("../../../docs/go.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("provision_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.SplitN(strings.SplitN(string(self), "// docs:provision:start\n", 2)[1], "// docs:provision:end\n", 2)[0]
	if !strings.Contains(string(page), "```go\n"+code+"```\n") {
		t.Errorf("docs/go.md \"Running on Kafka\" must show, in a go block, exactly:\n%s", code)
	}
}

// ampygenBin is the CLI tests/go/run.sh builds, or skips the test.
func ampygenBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("AMPYGEN_BIN")
	if bin == "" {
		if os.Getenv("AMPY_TEST_REQUIRE_KAFKA") == "1" {
			t.Fatal("AMPYGEN_BIN is not set (tests/go/run.sh sets it)")
		}
		t.Skip("AMPYGEN_BIN is not set (tests/go/run.sh sets it)")
	}
	return bin
}

// TestProvisionReportIsTheCLIs compares, for one broker state after
// another, the report of a dry run of kafkabus with the output of
// `ampygen provision kafka --dry-run` (the Rust runtime), byte for byte.
func TestProvisionReportIsTheCLIs(t *testing.T) {
	addr := bootstrap(t)
	bin := ampygenBin(t)
	registry, err := filepath.Abs("../../../registry/ampy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	adm := admin(t)
	plans, err := kafkabus.Plans(ampybus.EnvProd)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range plans {
		names = append(names, p.Name)
	}
	// Fresh, for a second run on the same broker; left provisioned after
	// (see uniquePlans).
	deleteTopics(t, adm, names...)
	b, err := kafkabus.Connect(addr, ampybus.EnvProd)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()

	compare := func(state string, allowDataLoss bool) {
		t.Helper()
		report, err := b.Provision(ctx, kafkabus.ProvisionOptions{DryRun: true, AllowDataLoss: allowDataLoss, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--registry", registry, "provision", "kafka", "--bootstrap", addr, "--env", "prod", "--dry-run"}
		if allowDataLoss {
			args = append(args, "--allow-data-loss")
		}
		cmd := exec.Command(bin, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1 && report.Refused()) {
			t.Fatalf("%s: ampygen %v: %v\n%s", state, args, err, out)
		}
		head, rest, _ := strings.Cut(string(out), "\n")
		if want := fmt.Sprintf("env `prod` on %s: 14 topics (dry run: nothing is changed)", addr); head != want {
			t.Fatalf("%s: the CLI's first line is %q, want %q", state, head, want)
		}
		t.Logf("%s:\n%s", state, rest)
		if rest != report.String() {
			t.Fatalf("%s: the reports differ\nampygen provision kafka:\n%s\nkafkabus:\n%s", state, rest, report)
		}
	}

	// An empty env but for one topic with fewer partitions and no configs.
	fills := planNamed(t, plans, ".fills.v1")
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, fills.Name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new fills topic", func() bool { return describeTopic(t, adm, fills.Name).partitions == 2 })
	compare("an empty env with a short fills topic", false)

	// The documented call provisions the env; then nothing differs.
	if err := provisionExample(addr); err != nil {
		t.Fatal(err)
	}
	if got := describeTopic(t, adm, fills.Name); got.partitions != int(fills.Partitions) || got.configs["retention.ms"] != fills.Configs["retention.ms"] {
		t.Fatalf("fills after provisioning: %+v", got)
	}
	compare("a provisioned env", false)

	// Changes behind the registry's back: more partitions on bars
	// (impossible to undo), a longer retention on news (the plan's would
	// lose data), another max.message.bytes on fx, no dlq topic.
	bars := planNamed(t, plans, ".bars.v1")
	news := planNamed(t, plans, ".news.v1")
	fx := planNamed(t, plans, ".fx.v1")
	dlq := planNamed(t, plans, ".dlq.v1")
	if rs, err := adm.UpdatePartitions(ctx, int(bars.Partitions)+3, bars.Name); err != nil || rs.Error() != nil {
		t.Fatal(err, rs.Error())
	}
	alter := func(topic, key, value string) {
		rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: kadm.StringPtr(value)}}, topic)
		if err == nil {
			for _, r := range rs {
				err = errors.Join(err, r.Err)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, topic+" "+key+"="+value, func() bool { return describeTopic(t, adm, topic).configs[key] == value })
	}
	alter(news.Name, "retention.ms", "999999999999")
	alter(fx.Name, "max.message.bytes", "2000000")
	deleteTopics(t, adm, dlq.Name)
	waitFor(t, "the bars partitions", func() bool { return describeTopic(t, adm, bars.Name).partitions == int(bars.Partitions)+3 })
	compare("a drifted env", false)
	compare("a drifted env, data loss allowed", true)
}

// docs:provision:start
func provisionExample(bootstrap string) error {
	ctx := context.Background()
	bus, err := kafkabus.Connect(bootstrap, ampybus.EnvProd)
	if err != nil {
		return err
	}
	defer bus.Close()
	// What `ampygen provision kafka --env prod` does: create the env's
	// topics (the DLQ topic too), raise partitions, update configs.
	report, err := bus.Provision(ctx, kafkabus.ProvisionOptions{})
	if err != nil {
		return err // kafkabus.KindOf(err) == kafkabus.KindProvision
	}
	fmt.Print(report) // the CLI's report, line for line
	if report.Refused() {
		return fmt.Errorf("some topics were not changed:\n%s", report)
	}
	return nil
}

// docs:provision:end
