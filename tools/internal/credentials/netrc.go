package credentials

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Netrc is a parsed netrc file: login and password per machine, and the `default` entry.
type Netrc struct {
	// Path is the file it came from, for messages.
	Path     string
	machines map[string]netrcEntry
	def      *netrcEntry
}

type netrcEntry struct{ login, password string }

// Lookup gives the login and password for host (with or without a port: `host:port` is
// tried first, then `host`, then `default`).
func (n *Netrc) Lookup(host string) (login, password string, ok bool) {
	if n == nil {
		return "", "", false
	}
	for _, h := range []string{host, hostOf(host)} {
		if e, found := n.machines[strings.ToLower(h)]; found {
			return e.login, e.password, true
		}
	}
	if n.def != nil {
		return n.def.login, n.def.password, true
	}
	return "", "", false
}

// LoadNetrc reads $NETRC if set (it must exist), else ~/.netrc if it exists; nil when
// there is none.
func LoadNetrc() (*Netrc, error) {
	p := os.Getenv("NETRC")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		p = filepath.Join(home, ".netrc")
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("netrc: %w", err)
	}
	return ParseNetrc(p, string(b))
}

// ParseNetrc parses netrc text: `machine NAME`, `default`, `login`, `password`, `account`
// and `macdef NAME` (its body runs to the next empty line), separated by white space.
// Errors name the file and line, never a password.
func ParseNetrc(path, text string) (*Netrc, error) {
	n := &Netrc{Path: path, machines: map[string]netrcEntry{}}
	var cur *netrcEntry
	var curName string
	flush := func() {
		if cur == nil {
			return
		}
		if curName == "" {
			n.def = cur
		} else if _, seen := n.machines[curName]; !seen {
			// The first entry for a machine wins, as curl and Bazel's read_netrc do.
			n.machines[curName] = *cur
		}
		cur = nil
	}
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	inMacro := false
	for s.Scan() {
		line++
		if inMacro {
			inMacro = strings.TrimSpace(s.Text()) != ""
			continue
		}
		fields := strings.Fields(s.Text())
		for i := 0; i < len(fields); i++ {
			tok := fields[i]
			if strings.HasPrefix(tok, "#") {
				break
			}
			value := func() (string, error) {
				if i+1 >= len(fields) {
					return "", fmt.Errorf("%s:%d: `%s` has no value on its line", path, line, tok)
				}
				i++
				return fields[i], nil
			}
			switch tok {
			case "machine":
				flush()
				name, err := value()
				if err != nil {
					return nil, err
				}
				cur, curName = &netrcEntry{}, strings.ToLower(name)
			case "default":
				flush()
				cur, curName = &netrcEntry{}, ""
			case "login", "password", "account":
				v, err := value()
				if err != nil {
					return nil, err
				}
				if cur == nil {
					return nil, fmt.Errorf("%s:%d: `%s` before any `machine` or `default`", path, line, tok)
				}
				switch tok {
				case "login":
					cur.login = v
				case "password":
					cur.password = v
				}
			case "macdef":
				flush()
				inMacro = true
				i = len(fields)
			default:
				return nil, fmt.Errorf("%s:%d: unknown netrc keyword (want machine, default, login, password, account or macdef)", path, line)
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	flush()
	return n, nil
}
