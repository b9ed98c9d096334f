package push

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/shlex"

	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// BazelSettings are the options of a user's .bazelrc files that tell push where the build's
// outputs may be: the remote cache (or executor, whose cache it is) and the disk cache.
type BazelSettings struct {
	RemoteCache RemoteCache // URL empty: none
	DiskCache   string
	// CredentialHelpers are the --credential_helper values, in order.
	CredentialHelpers []string
	// Files lists the rc files read, for messages.
	Files []string
}

// ReadBazelrc reads the rc files Bazel reads for `bazel run` in workspace — the system
// /etc/bazel.bazelrc, WORKSPACE/.bazelrc, ~/.bazelrc or instead the user files (Bazel's
// --bazelrc, which must exist), with their import and try-import lines — and applies the
// lines of the commands whose options `run` takes (common, always, build, run) plus, for
// each name in configs, their `:NAME` lines, as `--config=NAME` on the command line would.
// Later values win, as in Bazel; repeatable options accumulate.
func ReadBazelrc(system, workspace, home string, user, configs []string) (BazelSettings, error) {
	p := &rcParser{workspace: workspace, home: home, configLines: map[string][]rcLine{}}
	var files []string
	if system != "" {
		files = append(files, system)
	}
	if workspace != "" {
		files = append(files, filepath.Join(workspace, ".bazelrc"))
	}
	if home != "" && len(user) == 0 {
		files = append(files, filepath.Join(home, ".bazelrc"))
	}
	for _, f := range files {
		if err := p.file(f, true, 0); err != nil {
			return BazelSettings{}, err
		}
	}
	for _, f := range user {
		if err := p.file(p.path(f), false, 0); err != nil {
			return BazelSettings{}, err
		}
	}
	var s BazelSettings
	s.Files = p.read
	opts := &rcOptions{headers: http.Header{}}
	for _, l := range p.plain {
		if err := p.apply(opts, l, 0); err != nil {
			return s, err
		}
	}
	for _, c := range configs {
		if err := p.apply(opts, rcLine{where: "bazelrc", args: []string{"--config=" + c}}, 0); err != nil {
			return s, err
		}
	}
	url := opts.remoteCache
	if url == "" {
		url = opts.remoteExecutor
	}
	if url != "" {
		s.RemoteCache = RemoteCache{URL: url, InstanceName: opts.instance, Headers: opts.headers,
			TLSCA: p.path(opts.tlsCA), TLSCert: p.path(opts.tlsCert), TLSKey: p.path(opts.tlsKey)}
	}
	s.DiskCache = p.path(opts.diskCache)
	s.CredentialHelpers = opts.credentialHelpers
	return s, nil
}

type rcParser struct {
	workspace, home string
	read            []string
	plain           []rcLine            // lines without a config, in order
	configLines     map[string][]rcLine // config name -> its lines, in order
}

// rcLine is the options of one line and where it is (FILE:LINE), for messages.
type rcLine struct {
	where string
	args  []string
}

// maxRCLine bounds an rc line (with its continuation lines): far above any real one, it
// keeps a file that is not an rc file from being read whole into memory.
const maxRCLine = 1 << 20

// runCommands are the rc commands whose options apply to `bazel run`.
var runCommands = map[string]bool{"common": true, "always": true, "build": true, "run": true}

func (p *rcParser) file(path string, optional bool, depth int) error {
	if depth > 10 {
		return fmt.Errorf("%s: imports nest more than 10 deep", path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && optional {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bazelrc: %w", err)
	}
	defer f.Close()
	p.read = append(p.read, path)
	return rcLines(f, path, func(where, line string) error { return p.line(where, line, depth) })
}

// rcLines calls each with every line of r, continuation lines joined, and where it starts
// (PATH:LINE).
func rcLines(r io.Reader, path string, each func(where, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxRCLine+1)
	var joined string
	n, start := 0, 1
	for sc.Scan() {
		n++
		line := sc.Text()
		where := fmt.Sprintf("%s:%d", path, start)
		if len(joined)+len(line) > maxRCLine {
			return fmt.Errorf("%s: the line is longer than %d bytes", where, maxRCLine)
		}
		// A backslash at the end continues the line, as in Bazel's rc files.
		if strings.HasSuffix(line, "\\") {
			joined += strings.TrimSuffix(line, "\\")
			continue
		}
		line, joined, start = joined+line, "", n+1
		if err := each(where, line); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("%s:%d: the line is longer than %d bytes", path, start, maxRCLine)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bazelrc %s: %w", path, err)
	}
	return nil
}

// line takes one rc line. The line itself is never quoted in messages: it may hold a
// header's value or a URL's password.
func (p *rcParser) line(where, line string, depth int) error {
	words, err := shlex.Split(line)
	if err != nil {
		// shlex's errors (an unclosed quote) quote nothing of the line.
		return fmt.Errorf("%s: %w (the line is not shown: it may hold a secret)", where, err)
	}
	if len(words) == 0 {
		return nil
	}
	switch words[0] {
	case "import", "try-import":
		if len(words) != 2 {
			return fmt.Errorf("%s: want one file after %s, not %d words", where, words[0], len(words)-1)
		}
		target := strings.ReplaceAll(words[1], "%workspace%", p.workspace)
		return p.file(target, words[0] == "try-import", depth+1)
	}
	cmd, config, _ := strings.Cut(words[0], ":")
	if !runCommands[cmd] {
		return nil
	}
	l := rcLine{where: where, args: words[1:]}
	if config != "" {
		p.configLines[config] = append(p.configLines[config], l)
	} else {
		p.plain = append(p.plain, l)
	}
	return nil
}

type rcOptions struct {
	remoteCache, remoteExecutor, instance string
	headers                               http.Header
	tlsCA, tlsCert, tlsKey                string
	diskCache                             string
	credentialHelpers                     []string
}

// apply applies a line's options, expanding --config=NAME from the config lines.
func (p *rcParser) apply(o *rcOptions, l rcLine, depth int) error {
	if depth > 10 {
		return fmt.Errorf("%s: --config expansions nest more than 10 deep", l.where)
	}
	args := l.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		key, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && takesValue(key) {
			i++
			value, hasValue = args[i], true
		}
		if !hasValue {
			continue
		}
		switch key {
		case "config":
			lines, ok := p.configLines[value]
			if !ok {
				return fmt.Errorf("%s: config %q is not defined in %s", l.where, value, strings.Join(p.read, ", "))
			}
			for _, cl := range lines {
				if err := p.apply(o, cl, depth+1); err != nil {
					return err
				}
			}
		case "remote_cache":
			o.remoteCache = value
		case "remote_executor":
			o.remoteExecutor = value
		case "remote_instance_name":
			o.instance = value
		case "remote_header", "remote_cache_header":
			k, v, err := ParseRemoteHeader(value)
			if err != nil {
				return fmt.Errorf("%s: --%s %w", l.where, key, err)
			}
			o.headers.Add(k, v)
		case "tls_certificate":
			o.tlsCA = value
		case "tls_client_certificate":
			o.tlsCert = value
		case "tls_client_key":
			o.tlsKey = value
		case "disk_cache":
			o.diskCache = value
		case "credential_helper":
			o.credentialHelpers = append(o.credentialHelpers, value)
		}
	}
	return nil
}

func takesValue(key string) bool {
	switch key {
	case "config", "remote_cache", "remote_executor", "remote_instance_name", "remote_header",
		"remote_cache_header", "tls_certificate", "tls_client_certificate", "tls_client_key", "disk_cache",
		"credential_helper":
		return true
	}
	return false
}

// path resolves a path option as Bazel does: ~/ from the home directory, %workspace%, and
// relative paths from the workspace.
func (p *rcParser) path(v string) string {
	if v == "" {
		return ""
	}
	v = strings.ReplaceAll(v, "%workspace%", p.workspace)
	if rest, ok := strings.CutPrefix(v, "~/"); ok && p.home != "" {
		return filepath.Join(p.home, rest)
	}
	if !filepath.IsAbs(v) && p.workspace != "" {
		return filepath.Join(p.workspace, v)
	}
	return v
}

// ParseRemoteHeader splits a --remote_header value, NAME=VALUE as Bazel takes it. One that
// is not (an HTTP header line, `Authorization: Bearer ...`) is refused here, its value
// masked: net/http would refuse the name later quoting it whole, token and all.
func ParseRemoteHeader(h string) (name, value string, err error) {
	name, value, ok := strings.Cut(h, "=")
	if !ok || name == "" || strings.IndexFunc(name, notTokenChar) >= 0 {
		return "", "", fmt.Errorf("%q: want NAME=VALUE", redact.Header(h))
	}
	if strings.IndexFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
		return "", "", fmt.Errorf("%q: the value holds a control character", redact.Header(h))
	}
	return name, value, nil
}

// notTokenChar reports whether r may not be in a header name (RFC 9110's token).
func notTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}
