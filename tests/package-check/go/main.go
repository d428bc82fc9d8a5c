// Command gouser is the Go user of scripts/package-check: a module of its
// own that requires the module the installed ampygen generated (through a
// replace), routes a quote, builds and encodes an envelope, decodes it back
// and checks that the linked payload types hash to the registry's schemas.
package main

import (
	"fmt"
	"os"

	bus "acme.test/acmebus"
	quotesv1 "acme.test/acmebus/pb/acme/quotes/v1"
	"google.golang.org/protobuf/proto"
)

func run() error {
	if err := bus.VerifyLinked(); err != nil {
		return err
	}
	quote := &quotesv1.Quote{Venue: "XNAS", Symbol: "AAPL", BidMicros: 189120000, AskMicros: 189130000}
	subject, err := bus.QuotesV1QuoteSubject(bus.EnvProd, "XNAS", "AAPL")
	if err != nil {
		return err
	}
	key, err := bus.QuotesV1QuotePartitionKey(quote)
	if err != nil {
		return err
	}
	env, err := bus.NewEnvelope(quote, bus.EnvelopeOptions{Producer: "gouser@1", Source: "package-check", RunID: "r-1"})
	if err != nil {
		return err
	}
	record, err := env.Encode()
	if err != nil {
		return err
	}
	var got quotesv1.Quote
	if _, err := bus.DecodeEnvelope(record.Headers, record.Payload, &got); err != nil {
		return err
	}
	if subject != "acme.prod.quotes.v1.XNAS.AAPL" || key != "XNAS.AAPL" || !proto.Equal(&got, quote) {
		return fmt.Errorf("unexpected route %q, key %q or payload %v", subject, key, &got)
	}
	fmt.Printf("go user: subject %s, key %s, %d header(s), payload round trip ok\n", subject, key, len(record.Headers))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gouser:", err)
		os.Exit(1)
	}
}
