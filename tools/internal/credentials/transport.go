package credentials

import (
	"fmt"
	"net/http"
)

// Transport adds credentials to the requests base sends that carry no Authorization: the
// headers of the credential helper whose scope matches the URL's host (all of them, as
// Bazel's downloader adds them), else the netrc entry for the host as basic auth. The
// URL's own host decides, so a redirect to another host never receives these credentials.
func Transport(base http.RoundTripper, helpers []Helper, netrc *Netrc) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, helpers: helpers, netrc: netrc}
}

type transport struct {
	base    http.RoundTripper
	helpers []Helper
	netrc   *Netrc
	g       getter
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	var set func(*http.Request)
	if h, ok := find(t.helpers, req.URL.Hostname()); ok {
		u := *req.URL
		u.User = nil
		hd, err := t.g.get(req.Context(), h, u.String())
		if err != nil {
			return nil, err
		}
		if len(hd) > 0 {
			set = func(r *http.Request) {
				for k, vs := range hd {
					r.Header.Del(k)
					for _, v := range vs {
						r.Header.Add(k, v)
					}
				}
			}
		}
	}
	if set == nil {
		if login, password, ok := t.netrc.Lookup(req.URL.Host); ok {
			if login == "" && password == "" {
				return nil, fmt.Errorf("%s: the netrc entry for %s has no login or password", t.netrc.Path, req.URL.Host)
			}
			set = func(r *http.Request) { r.SetBasicAuth(login, password) }
		}
	}
	if set == nil {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request.
	r := req.Clone(req.Context())
	set(r)
	return t.base.RoundTrip(r)
}
