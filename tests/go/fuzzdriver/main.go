// Command fuzzdriver is the Go driver of the differential fuzz harness
// (tests/fuzz-diff, run by scripts/fuzz-diff). It reads records as JSON
// lines on stdin,
//
//	{"id": 7, "topic": "bars.v1.bars", "headers": [["message_id", "…"], …], "body": "<base64>"}
//
// decodes each with bus.DecodeEnvelope into its topic's payload type, and
// answers each with one line: "<id> ok <sha256 of the canonical payload>",
// "<id> err <kind>", or "<id> crash <what>" when the decoder panicked or
// returned an error without a kind. The canonical payload is
// bus.MarshalCanonical of the decoded message without unknown fields: the
// digest the Rust and Python drivers compute the same way.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	bus "ampyfin.dev/ampybus"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type record struct {
	ID      uint64      `json:"id"`
	Topic   string      `json:"topic"`
	Headers [][2]string `json:"headers"`
	Body    []byte      `json:"body"`
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var r record
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				fmt.Fprintf(out, "? crash bad record: %v\n", jerr)
			} else {
				fmt.Fprintf(out, "%d %s\n", r.ID, decide(&r))
			}
			if ferr := out.Flush(); ferr != nil {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fuzzdriver:", err)
			os.Exit(2)
		}
	}
}

func decide(r *record) (answer string) {
	defer func() {
		if p := recover(); p != nil {
			answer = "crash panic: " + oneLine(fmt.Sprint(p))
		}
	}()
	t, ok := bus.TopicByID(r.Topic)
	if !ok {
		return "crash unknown topic " + r.Topic
	}
	msg := t.NewPayload()
	pairs := make([]bus.HeaderPair, len(r.Headers))
	for i, h := range r.Headers {
		pairs[i] = bus.HeaderPair{Name: h[0], Value: h[1]}
	}
	if _, err := bus.DecodeEnvelope(pairs, r.Body, msg); err != nil {
		if k := bus.KindOf(err); k != "" {
			return "err " + k
		}
		return "crash error without a kind: " + oneLine(err.Error())
	}
	dropUnknown(msg.ProtoReflect())
	b, err := bus.MarshalCanonical(msg)
	if err != nil {
		return "crash marshal: " + oneLine(err.Error())
	}
	sum := sha256.Sum256(b)
	return "ok " + hex.EncodeToString(sum[:])
}

// dropUnknown clears the unknown fields of m and every message in it,
// and a zero of either sign in an implicit-presence float field: Rust's
// encoder (prost) writes no -0.0 there, so the Rust digest cannot tell
// the two zeros apart (docs/envelope.md, "Encoders").
func dropUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	var zeros []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case !fd.HasPresence() && !fd.IsList() && (fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind):
			if v.Float() == 0 {
				zeros = append(zeros, fd)
			}
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					dropUnknown(mv.Message())
					return true
				})
			}
		case fd.Message() != nil && fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				dropUnknown(v.List().Get(i).Message())
			}
		case fd.Message() != nil:
			dropUnknown(v.Message())
		}
		return true
	})
	for _, fd := range zeros {
		m.Clear(fd)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
