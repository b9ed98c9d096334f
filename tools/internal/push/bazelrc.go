package push

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/shlex"
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
	p := &rcParser{workspace: workspace, home: home, configLines: map[string][][]string{}}
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
	for _, args := range p.plain {
		if err := p.apply(opts, args, 0); err != nil {
			return s, err
		}
	}
	for _, c := range configs {
		if err := p.apply(opts, []string{"--config=" + c}, 0); err != nil {
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
	plain           [][]string            // options of lines without a config, in order
	configLines     map[string][][]string // config name -> options of its lines, in order
}

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
	sc := bufio.NewScanner(f)
	var joined string
	for sc.Scan() {
		line := sc.Text()
		// A backslash at the end continues the line, as in Bazel's rc files.
		if strings.HasSuffix(line, "\\") {
			joined += strings.TrimSuffix(line, "\\")
			continue
		}
		line, joined = joined+line, ""
		words, err := shlex.Split(line)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", path, line, err)
		}
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "import", "try-import":
			if len(words) != 2 {
				return fmt.Errorf("%s: %q: want one file after %s", path, line, words[0])
			}
			target := strings.ReplaceAll(words[1], "%workspace%", p.workspace)
			if err := p.file(target, words[0] == "try-import", depth+1); err != nil {
				return err
			}
			continue
		}
		cmd, config, _ := strings.Cut(words[0], ":")
		if !runCommands[cmd] {
			continue
		}
		if config != "" {
			p.configLines[config] = append(p.configLines[config], words[1:])
		} else {
			p.plain = append(p.plain, words[1:])
		}
	}
	return sc.Err()
}

type rcOptions struct {
	remoteCache, remoteExecutor, instance string
	headers                               http.Header
	tlsCA, tlsCert, tlsKey                string
	diskCache                             string
	credentialHelpers                     []string
}

// apply applies options, expanding --config=NAME from the config lines.
func (p *rcParser) apply(o *rcOptions, args []string, depth int) error {
	if depth > 10 {
		return errors.New("bazelrc: --config expansions nest more than 10 deep")
	}
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
				return fmt.Errorf("bazelrc: config %q is not defined in %s", value, strings.Join(p.read, ", "))
			}
			for _, l := range lines {
				if err := p.apply(o, l, depth+1); err != nil {
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
			k, v, _ := strings.Cut(value, "=")
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
