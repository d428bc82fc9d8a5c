package stale

// Copied next to the package generated from tests/hostile/go/stale.yaml by
// tests/go/run.sh: the error wording of VerifyLinked and of the generic
// API, which need a package whose lock is stale and a registry without
// the contract's `paper` env.

import (
	"errors"
	"strings"
	"testing"

	fillsv1 "example.test/stale/pb/ampy/fills/v1"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestVerifyLinkedNamesThePayloadAndTopic(t *testing.T) {
	err := VerifyLinked()
	if KindOf(err) != "hash_mismatch" {
		t.Fatalf("VerifyLinked: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"the linked `ampy.fills.v1.Fill` (topic fills.v1.events) hashes to `sha256:",
		"the registry locked `sha256:0000000000000000000000000000000000000000000000000000000000000000`",
		"the Go types are not generated from the protos the registry locked",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("VerifyLinked error %q does not contain %q", msg, want)
		}
	}
	var se *SchemaError
	if !errors.As(err, &se) || se.Payload != "ampy.fills.v1.Fill" || se.Topics != "fills.v1.events" {
		t.Errorf("VerifyLinked error fields: %+v", se)
	}
}

// A dynamicpb message has the registered proto name but is not the
// generated Go type: the error says so and names the generated one.
func TestAForeignGoTypeIsNamedAsSuch(t *testing.T) {
	foreign := dynamicpb.NewMessage((*fillsv1.Fill)(nil).ProtoReflect().Descriptor())
	wants := []string{
		"*dynamicpb.Message carries ampy.fills.v1.Fill, but its generated type is *fillsv1.Fill",
		`from package "example.test/stale/pb/ampy/fills/v1"`,
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrForeignType) || errors.Is(err, ErrUnknownPayload) {
			t.Errorf("%s: %v is not ErrForeignType alone", what, err)
			return
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not contain %q", what, err.Error(), want)
			}
		}
	}
	_, err := TopicFor(foreign, EnvProd)
	check("TopicFor", err)
	_, err = PartitionKey(foreign)
	check("PartitionKey", err)
	_, err = FillsV1Events.TopicFor(foreign, EnvProd)
	check("Topic.TopicFor", err)
	_, err = FillsV1Events.PartitionKey(foreign)
	check("Topic.PartitionKey", err)
	_, err = NewEnvelope(foreign, EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	check("NewEnvelope", err)

	// A message the registry does not carry at all stays ErrUnknownPayload.
	_, err = TopicFor(timestamppb.Now(), EnvProd)
	if !errors.Is(err, ErrUnknownPayload) || !strings.Contains(err.Error(), "google.protobuf.Timestamp") {
		t.Errorf("TopicFor(Timestamp): %v", err)
	}
	_, err = FillsV1Events.TopicFor(timestamppb.Now(), EnvProd)
	if !errors.Is(err, ErrUnknownPayload) || !strings.Contains(err.Error(), "the topic carries ampy.fills.v1.Fill, got google.protobuf.Timestamp") {
		t.Errorf("Topic.TopicFor(Timestamp): %v", err)
	}
}

// This registry has no `paper`: the contract's env is as unknown here as
// any typo.
func TestOnlyThisRegistrysEnvsFormSubjects(t *testing.T) {
	fill := &fillsv1.Fill{AccountId: "A-1"}
	for _, env := range []Env{"paper", "PROD", "staging", ""} {
		if _, err := FillsV1EventsTopicFor(fill, env); KindOf(err) != "unknown_env" {
			t.Errorf("FillsV1EventsTopicFor(%q): %v", env, err)
		}
		if _, err := ParseEnv(string(env)); KindOf(err) != "unknown_env" {
			t.Errorf("ParseEnv(%q): %v", env, err)
		}
	}
	if _, err := FillsV1EventsTopicFor(fill, EnvProd); err != nil {
		t.Error(err)
	}
	_, err := PatternAll("paper")
	if got, want := err.Error(), "unknown env `paper`; the registry has: dev, prod"; got != want {
		t.Errorf("PatternAll(paper): %q, want %q", got, want)
	}
}
