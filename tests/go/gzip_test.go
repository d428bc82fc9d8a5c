package gotests

// The gzip rules of docs/envelope.md beyond the vectors: what a bomb costs
// in memory, and the header fields one at a time against the limits.

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"strings"
	"syscall"
	"testing"

	bus "ampyfin.dev/ampybus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
)

// bomb is a gzip member that inflates to about size zero bytes, made
// without inflating anything: a deflate chunk that appends 1 MiB of zeros
// to a window of zeros is written once and repeated. Its size trailer is
// the true size mod 2^32, so a 4 GiB bomb claims 0 bytes.
func bomb(t *testing.T, size int64) []byte {
	t.Helper()
	window := make([]byte, 32<<10)
	var first, chunk bytes.Buffer
	w, _ := flate.NewWriter(&first, flate.BestCompression)
	w.Write(window)
	w.Flush()
	d, _ := flate.NewWriterDict(&chunk, flate.BestCompression, window)
	d.Write(make([]byte, 1<<20))
	d.Flush()
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	out = append(out, first.Bytes()...)
	crc, n := crc32.ChecksumIEEE(window), int64(len(window))
	mib := make([]byte, 1<<20)
	for ; n+1<<20 <= size; n += 1 << 20 {
		out = append(out, chunk.Bytes()...)
		crc = crc32.Update(crc, crc32.IEEETable, mib)
	}
	out = append(out, 0x03, 0x00) // a final, empty fixed-Huffman block
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(n))
}

func gzipHeaders(t *testing.T) []bus.HeaderPair {
	e, err := bus.NewEnvelope(batch(sec("AAPL", "XNAS")), bus.EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := e.Encode()
	return append(rec.Headers, bus.HeaderPair{Name: bus.HeaderContentEncoding, Value: "gzip"})
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGzipBombMemory: a 4 GiB bomb is refused after inflating 64 MiB + 1
// bytes, which are counted, not kept: the decoder allocates its scratch
// buffer and the inflater's state, never the cap. An honest member is
// inflated into one buffer of exactly its size.
func TestGzipBombMemory(t *testing.T) {
	headers := gzipHeaders(t)
	big := bomb(t, 4<<30)
	var err error
	used := allocated(func() { _, err = bus.DecodeEnvelope(headers, big, &barsv1.BarBatch{}) })
	if bus.KindOf(err) != "too_large" {
		t.Fatalf("4 GiB bomb: %v", err)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("4 GiB bomb (%d bytes): allocated %d bytes while decoding; process max RSS %d KiB", len(big), used, ru.Maxrss)
	if used > 2<<20 {
		t.Errorf("decoding a bomb allocated %d bytes, want under 2 MiB", used)
	}
	// Exactly the cap: kept in one buffer of the cap (plus one byte),
	// then refused by the payload rules (a zero byte is tag 0).
	atCap := bomb(t, bus.MaxInflated)
	used = allocated(func() { _, err = bus.DecodeEnvelope(headers, atCap, &barsv1.BarBatch{}) })
	if bus.KindOf(err) != "decode_error" {
		t.Fatalf("64 MiB of zeros: %v", err)
	}
	t.Logf("64 MiB member: allocated %d bytes", used)
	if used > bus.MaxInflated+(2<<20) {
		t.Errorf("decoding a 64 MiB member allocated %d bytes, want one buffer of 64 MiB", used)
	}
}

// member writes a gzip member of payload with the given FLG and fields.
func member(flg byte, fields, payload []byte) []byte {
	out := append([]byte{0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 255}, fields...)
	var body bytes.Buffer
	w, _ := flate.NewWriter(&body, flate.BestSpeed)
	w.Write(payload)
	w.Close()
	out = append(out, body.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(payload))
	return binary.LittleEndian.AppendUint32(out, uint32(len(payload)))
}

func TestGzipHeaderRules(t *testing.T) {
	headers := gzipHeaders(t)
	e, _ := bus.NewEnvelope(batch(sec("AAPL", "XNAS")), bus.EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	rec, _ := e.Encode()
	p := rec.Payload
	name := func(n int) []byte { return append([]byte(strings.Repeat("n", n)), 0) }
	head := []byte{0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 255}
	hcrc := binary.LittleEndian.AppendUint16(nil, uint16(crc32.ChecksumIEEE(head)))
	for _, c := range []struct {
		what   string
		body   []byte
		kind   string
		reason string
	}{
		{"FTEXT", member(0x01, nil, p), "", ""},
		{"reserved 0x20", member(0x20, nil, p), "corrupt_gzip", "decode_error: corrupt gzip: the gzip header sets reserved flag bits (FLG 0x20)"},
		{"reserved 0x80", member(0x80, nil, p), "corrupt_gzip", ""},
		{"FNAME 511", member(0x08, name(511), p), "", ""},
		{"FNAME 512", member(0x08, name(512), p), "corrupt_gzip", "decode_error: corrupt gzip: the gzip file name is longer than 511 bytes"},
		{"FCOMMENT 511", member(0x10, name(511), p), "", ""},
		{"FCOMMENT 512", member(0x10, name(512), p), "corrupt_gzip", "decode_error: corrupt gzip: the gzip comment is longer than 511 bytes"},
		{"FEXTRA", member(0x04, []byte{3, 0, 'a', 'b', 'c'}, p), "", ""},
		{"FHCRC", member(0x02, hcrc, p), "", ""},
		{"FHCRC wrong", member(0x02, []byte{hcrc[0] ^ 1, hcrc[1]}, p), "corrupt_gzip", "decode_error: corrupt gzip: the gzip header CRC does not match the header"},
	} {
		_, err := bus.DecodeEnvelope(headers, c.body, &barsv1.BarBatch{})
		if bus.KindOf(err) != c.kind || (c.reason != "" && bus.DLQReason(err) != c.reason) {
			t.Errorf("%s: %v (%q), reason %q", c.what, err, bus.KindOf(err), bus.DLQReason(err))
		}
	}
}
