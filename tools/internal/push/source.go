package push

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// errNotFound is what a source returns when it does not hold a blob; push then asks the
// next source.
var errNotFound = errors.New("not found")

// A Source holds blobs by digest: the local output tree, a remote cache, a disk cache, the
// registry an image was pulled from.
type Source interface {
	// Open returns the blob's bytes, or an error wrapping errNotFound.
	Open(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error)
	// String names the source in messages and the summary.
	String() string
}

// RemoteCache is how to reach a Bazel remote cache: what `--remote_cache` (or
// `--remote_executor`), `--remote_instance_name`, `--remote_header` and the TLS flags give
// Bazel.
type RemoteCache struct {
	URL          string // grpc://, grpcs://, http://, https://; no scheme means grpcs
	InstanceName string
	Headers      http.Header
	TLSCA        string // --tls_certificate: a PEM file of CAs to trust
	TLSCert      string // --tls_client_certificate
	TLSKey       string // --tls_client_key
	// Helpers are Bazel credential helpers; the one whose scope matches the cache's host
	// gives its requests' headers, as Bazel's own remote cache client asks it.
	Helpers []credentials.Helper
}

// NewRemoteCacheSource returns the source reading blobs from the cache rc describes: by
// ByteStream Read of `{instance}/blobs/{hash}/{size}` over gRPC, or `GET /cas/{hash}` over
// HTTP, as Bazel's own remote and HTTP caches store outputs. A layer file's CAS digest is
// its OCI digest (both sha256 of the bytes).
func NewRemoteCacheSource(rc RemoteCache) (Source, error) {
	raw := rc.URL
	if !strings.Contains(raw, "://") {
		raw = "grpcs://" + raw
	}
	// The URL's userinfo may hold a password or token: messages name the cache by shown.
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, userinfo and all.
		return nil, fmt.Errorf("remote cache %q: %w", shown, redact.Error(err))
	}
	tlsConfig, err := rc.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("remote cache %s: %w", shown, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	s := &remoteCacheSource{rc: rc, base: u, shown: shown}
	switch u.Scheme {
	case "grpc", "grpcs":
		var p http.Protocols
		if u.Scheme == "grpc" {
			p.SetUnencryptedHTTP2(true)
			s.base.Scheme = "http"
		} else {
			p.SetHTTP2(true)
			s.base.Scheme = "https"
		}
		tr.Protocols = &p
		s.grpc = true
	case "http", "https":
	case "unix":
		return nil, fmt.Errorf("remote cache %s: unix sockets are not supported by push; give a grpc:// or http:// endpoint", shown)
	default:
		return nil, fmt.Errorf("remote cache %s: scheme %q is none of grpc, grpcs, http, https", shown, u.Scheme)
	}
	s.client = &http.Client{Transport: credentials.Transport(tr, rc.Helpers, nil)}
	return s, nil
}

func (rc RemoteCache) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{}
	if rc.TLSCA != "" {
		pem, err := os.ReadFile(rc.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("tls_certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_certificate %s: no PEM certificate in it", rc.TLSCA)
		}
		c.RootCAs = pool
	}
	if (rc.TLSCert == "") != (rc.TLSKey == "") {
		return nil, errors.New("tls_client_certificate and tls_client_key go together")
	}
	if rc.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(rc.TLSCert, rc.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls_client_certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

type remoteCacheSource struct {
	rc     RemoteCache
	shown  string // the URL, redacted
	base   *url.URL
	grpc   bool
	client *http.Client
}

func (s *remoteCacheSource) String() string { return "remote cache " + s.shown }

// Open reads a blob; its errors, which net/http's quote the request URL in (masking a
// password but not a token given as the user name), are redacted.
func (s *remoteCacheSource) Open(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	rc, err := s.open(ctx, d)
	if err != nil && redact.Text(err.Error()) != err.Error() {
		return nil, redact.Error(err)
	}
	return rc, err
}

func (s *remoteCacheSource) open(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	if d.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("%w: the cache holds sha256 digests only", errNotFound)
	}
	if s.grpc {
		resource := fmt.Sprintf("blobs/%s/%d", d.Digest.Hex, d.Size)
		if s.rc.InstanceName != "" {
			resource = strings.Trim(s.rc.InstanceName, "/") + "/" + resource
		}
		rc, err := readByteStream(ctx, s.client, s.base, s.rc.Headers, resource)
		var st *grpcStatus
		if errors.As(err, &st) && st.code == grpcNotFound {
			return nil, fmt.Errorf("%w (%s)", errNotFound, st.message)
		}
		return rc, err
	}
	u := *s.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/cas/" + d.Digest.Hex
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range s.rc.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, errNotFound
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", redact.URL(u.String()), resp.Status)
	}
}

// DiskCacheSource reads blobs from a Bazel `--disk_cache` directory, which keeps outputs
// under cas/<first two hex digits>/<hash>.
type DiskCacheSource string

func (dir DiskCacheSource) String() string { return "disk cache " + string(dir) }

func (dir DiskCacheSource) Open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) < 2 {
		return nil, errNotFound
	}
	return openSized(filepath.Join(string(dir), "cas", d.Digest.Hex[:2], d.Digest.Hex), d.Size)
}

// openSized opens path if it is a file of the blob's size: a file of another size (a stale
// output of an earlier build) is not the blob. Content is checked while it is read.
func openSized(path string, size int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() != size {
		f.Close()
		return nil, fmt.Errorf("%w: %s is %d bytes, the blob %d", errNotFound, path, st.Size(), size)
	}
	return f, nil
}

// bytesSource serves blobs push holds in memory (manifests' configs).
type bytesSource map[v1.Hash][]byte

func (bytesSource) String() string { return "build outputs" }

func (s bytesSource) Open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	b, ok := s[d.Digest]
	if !ok {
		return nil, errNotFound
	}
	return io.NopCloser(strings.NewReader(string(b))), nil
}

// verified reads a blob from its source and fails at the end when what was read is not
// the blob (another size or digest), naming the source: a stale file or a corrupt cache
// entry must not become a registry error about an upload URL.
type verified struct {
	r      io.ReadCloser
	d      v1.Descriptor
	source string
	h      hashState
	n      int64
	count  func(int)
	wrong  func(what string) // told what was read instead of the blob
	sent   atomic.Bool       // handed to a request (see uploadTransport)
}

type hashState interface {
	io.Writer
	Sum([]byte) []byte
}

func newVerified(r io.ReadCloser, d v1.Descriptor, source string, count func(int)) *verified {
	return &verified{r: r, d: d, source: source, h: sha256.New(), count: count}
}

func (v *verified) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if n > 0 {
		v.h.Write(p[:n])
		v.n += int64(n)
		if v.count != nil {
			v.count(n)
		}
		if v.n > v.d.Size {
			return n, v.fail(fmt.Sprintf("more than its %d bytes", v.d.Size))
		}
	}
	if err == io.EOF {
		if v.n != v.d.Size {
			return n, v.fail(fmt.Sprintf("%d bytes, want %d", v.n, v.d.Size))
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.d.Digest.Hex {
			return n, v.fail("content has digest sha256:" + got)
		}
	}
	return n, err
}

func (v *verified) fail(what string) error {
	if v.wrong != nil {
		v.wrong(what)
	}
	return fmt.Errorf("blob %s from %s: %s", v.d.Digest, v.source, what)
}

func (v *verified) Close() error { return v.r.Close() }

// dialTimeout bounds connecting to a cache that is down, so push moves on to the next
// source instead of waiting for the kernel's timeout.
const dialTimeout = 10 * time.Second
