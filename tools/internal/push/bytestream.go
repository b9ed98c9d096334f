package push

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A minimal gRPC client for one call, google.bytestream.ByteStream/Read, over net/http's
// HTTP/2 (h2c for grpc://, TLS for grpcs://). It is all push needs from a REAPI cache, and
// it spares the tool grpc-go and protobuf: ReadRequest and ReadResponse are two messages
// of one and three fields.

const byteStreamRead = "/google.bytestream.ByteStream/Read"

// grpcStatus is a gRPC call's failure: its status code and message.
type grpcStatus struct {
	code    int
	message string
}

// gRPC status codes push tells apart.
const (
	grpcNotFound = 5
)

func (s *grpcStatus) Error() string {
	return fmt.Sprintf("gRPC status %d (%s): %s", s.code, grpcCodeName(s.code), s.message)
}

func grpcCodeName(c int) string {
	names := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if c >= 0 && c < len(names) {
		return names[c]
	}
	return "code " + strconv.Itoa(c)
}

// byteStreamRead starts a Read of resource from the gRPC server at base (scheme http for
// h2c, https for TLS) and returns the stream of its data. Errors the server reports before
// the first byte are returned here; later ones end the stream's Read.
func readByteStream(ctx context.Context, client *http.Client, base *url.URL, headers http.Header, resource string) (io.ReadCloser, error) {
	msg := appendString(nil, 1, resource)
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + byteStreamRead
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %s from %s (is it a gRPC endpoint?)", resp.Status, u.Host)
	}
	// A call that fails at once answers with headers only ("Trailers-Only").
	if err := statusOf(resp.Header); err != nil {
		resp.Body.Close()
		return nil, err
	}
	s := &byteStream{resp: resp, r: bufio.NewReaderSize(resp.Body, 64<<10)}
	// Read the first message now, so that NOT_FOUND and similar come back from here.
	if err := s.next(); err != nil && err != io.EOF {
		resp.Body.Close()
		return nil, err
	}
	return s, nil
}

// byteStream yields the data fields of a Read call's ReadResponse messages.
type byteStream struct {
	resp *http.Response
	r    *bufio.Reader
	buf  []byte // the current message's data not yet returned
	done bool
}

func (s *byteStream) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.done {
			return 0, io.EOF
		}
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// next reads one message into buf, or, at the end of the body, checks the trailers.
func (s *byteStream) next() error {
	var hdr [5]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		if err == io.EOF {
			s.done = true
			if err := statusOf(s.resp.Trailer); err != nil {
				return err
			}
			if s.resp.Trailer.Get("Grpc-Status") == "" && s.resp.Header.Get("Grpc-Status") == "" {
				return errors.New("gRPC stream ended without a status")
			}
			return io.EOF
		}
		return err
	}
	if hdr[0] != 0 {
		return errors.New("gRPC message is compressed; no compression was offered")
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 64<<20 {
		return fmt.Errorf("gRPC message of %d bytes is larger than a ByteStream chunk should be", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(s.r, msg); err != nil {
		return fmt.Errorf("gRPC message cut short: %w", err)
	}
	data, err := bytesField(msg, 10)
	if err != nil {
		return fmt.Errorf("ReadResponse: %w", err)
	}
	s.buf = data
	return nil
}

func (s *byteStream) Close() error { return s.resp.Body.Close() }

// statusOf returns the gRPC error a header or trailer set carries, or nil for OK or none.
func statusOf(h http.Header) error {
	v := h.Get("Grpc-Status")
	if v == "" || v == "0" {
		return nil
	}
	code, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("gRPC status %q is not a number", v)
	}
	msg, _ := url.PathUnescape(h.Get("Grpc-Message"))
	return &grpcStatus{code: code, message: msg}
}

// appendString appends a protobuf string field.
func appendString(b []byte, field int, s string) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// bytesField returns the last occurrence of a length-delimited field of msg (protobuf's
// rule for a repeated scalar field), skipping every other field; nil when absent.
func bytesField(msg []byte, field int) ([]byte, error) {
	var out []byte
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return nil, errors.New("bad field key")
		}
		msg = msg[n:]
		switch key & 7 {
		case 0: // varint
			_, n := binary.Uvarint(msg)
			if n <= 0 {
				return nil, errors.New("bad varint")
			}
			msg = msg[n:]
		case 1: // 64-bit
			if len(msg) < 8 {
				return nil, errors.New("short 64-bit field")
			}
			msg = msg[8:]
		case 5: // 32-bit
			if len(msg) < 4 {
				return nil, errors.New("short 32-bit field")
			}
			msg = msg[4:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || uint64(len(msg)-n) < l {
				return nil, errors.New("bad length-delimited field")
			}
			if int(key>>3) == field {
				out = msg[n : n+int(l)]
			}
			msg = msg[n+int(l):]
		default:
			return nil, fmt.Errorf("unsupported wire type %d", key&7)
		}
	}
	return out, nil
}
