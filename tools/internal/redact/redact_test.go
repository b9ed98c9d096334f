package redact

import (
	"errors"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

const secret = "s3cr3t-TOKEN-42"

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:" + secret + "@cache:8080/x": "http://user:***@cache:8080/x",
		"grpcs://" + secret + "@cache":            "grpcs://***@cache",
		"https://cache.example.com/path":          "https://cache.example.com/path",
		"http://u:" + secret + "@ca che/x":        "http://u:***@ca che/x",
		"http://u:p@ss" + secret + "@host":        "http://u:***@host",
		"no url here":                             "no url here",
		"http://host/a@b":                         "http://host/a@b",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextInParseError(t *testing.T) {
	//lint:ignore SA1007 the URL is invalid on purpose: its parse error is the text redacted
	_, err := url.Parse("http://user:" + secret + "@cache host/")
	if err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("url.Parse's error no longer quotes the URL (%v): the test needs another", err)
	}
	got := Text("--remote_cache: " + err.Error() + "; also https://a:" + secret + "@b/c")
	if strings.Contains(got, secret) || !strings.Contains(got, "user:***@cache") || !strings.Contains(got, "a:***@b/c") {
		t.Errorf("Text = %q", got)
	}
}

func TestWithoutUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"https://alice:" + secret + "@h/main":           "https://h/main",
		"@local https://" + secret + "@h/repo":          "@local https://h/repo",
		"https://h/keys/alpine-devel@lists.example.pub": "https://h/keys/alpine-devel@lists.example.pub",
		"./main/x86_64": "./main/x86_64",
	} {
		if got := WithoutUserinfo(in); got != want {
			t.Errorf("WithoutUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Authorization: Basic " + secret: "Authorization: ***",
		"Authorization=Bearer " + secret: "Authorization=***",
		"x-token " + secret:              "***",
	} {
		if got := Header(in); got != want {
			t.Errorf("Header(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	base := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	err := Error(errors.Join(base, errors.New("header "+secret+" and http://u:p@h")), secret)
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "u:p@") {
		t.Errorf("Error kept a secret: %q", err)
	}
	if !strings.Contains(err.Error(), "header *** and http://u:***@h") {
		t.Errorf("Error = %q", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) || !Is(err) {
		t.Error("Error hid the wrapped error from errors.As/Is")
	}
}
