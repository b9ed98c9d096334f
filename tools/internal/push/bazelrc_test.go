package push

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const plantedSecret = "s3cr3t-TOKEN-rc-91"

// rcFails reads rc (the workspace's .bazelrc) with configs and returns the error the user
// reads, failing the test if there is none or if it holds the secret.
func rcFails(t *testing.T, rc string, configs ...string) (string, string) {
	t.Helper()
	ws := t.TempDir()
	path := filepath.Join(ws, ".bazelrc")
	if err := os.WriteFile(path, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadBazelrc("", ws, t.TempDir(), nil, configs)
	if err == nil {
		t.Fatalf("ReadBazelrc of %.80q succeeded", rc)
	}
	t.Logf("user sees: %.300s", err)
	if strings.Contains(err.Error(), plantedSecret) {
		t.Errorf("error holds the secret: %.300s", err)
	}
	return err.Error(), path
}

// A --remote_header written as an HTTP header line (a colon, not =) is refused naming the
// file and line, its value masked; Bazel refuses it too.
func TestBazelrcRemoteHeaderNotNameValue(t *testing.T) {
	msg, path := rcFails(t, "build --remote_cache=https://cache.example\n"+
		`build --remote_header="Authorization: Basic `+plantedSecret+`"`+"\n")
	if want := path + `:2: --remote_header "Authorization: ***": want NAME=VALUE`; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
	// In a config's line, applied by --config, behind a continued line.
	msg, path = rcFails(t, "build:ci --remote_cache=https://cache.example \\\n"+
		"  --remote_cache_header=Authorization:"+plantedSecret+"=x\n", "ci")
	if want := path + `:1: --remote_cache_header "Authorization: ***": want NAME=VALUE`; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
	msg, path = rcFails(t, "\n\ncommon --remote_header=X-Token=a\x01b"+plantedSecret+"\n")
	if want := path + `:3: --remote_header "X-Token=***": the value holds a control character`; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
}

// A line whose quote is not closed is named by file and line, and not quoted.
func TestBazelrcUnclosedQuote(t *testing.T) {
	msg, path := rcFails(t, "# team settings\nbuild --remote_header='Authorization=Bearer "+plantedSecret+"\n")
	if want := path + ":2: EOF found when expecting closing quote (the line is not shown: it may hold a secret)"; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
}

// Lines are not limited to bufio.Scanner's 64 KB; a line over 1 MiB is refused by file and
// line.
func TestBazelrcLongLines(t *testing.T) {
	ws := t.TempDir()
	long := strings.Repeat("a", 100<<10)
	rc := "build --remote_header=X-Long=" + long + "\nbuild --remote_cache=grpcs://cache.example\n"
	os.WriteFile(filepath.Join(ws, ".bazelrc"), []byte(rc), 0o644)
	s, err := ReadBazelrc("", ws, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.RemoteCache.URL != "grpcs://cache.example" || s.RemoteCache.Headers.Get("X-Long") != long {
		t.Errorf("read %.200v", s.RemoteCache)
	}
	huge := strings.Repeat(plantedSecret, (1<<20)/len(plantedSecret)+1)
	msg, path := rcFails(t, "build --disk_cache=/dc\nbuild --remote_header=X-Token="+huge+"\n")
	if want := path + ":2: the line is longer than 1048576 bytes"; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
	// Continued lines count together.
	half := strings.Repeat("b", 600<<10)
	msg, path = rcFails(t, "build --remote_header=X-A="+half+" \\\n --remote_header=X-B="+half+"\n")
	if want := path + ":1: the line is longer than 1048576 bytes"; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
}

func TestParseRemoteHeader(t *testing.T) {
	k, v, err := ParseRemoteHeader("Authorization=Bearer a=b")
	if err != nil || k != "Authorization" || v != "Bearer a=b" {
		t.Errorf("ParseRemoteHeader = %q, %q, %v", k, v, err)
	}
	for in, want := range map[string]string{
		"Authorization: Bearer " + plantedSecret:        `"Authorization: ***": want NAME=VALUE`,
		"Authorization: Bearer " + plantedSecret + "=x": `"Authorization: ***": want NAME=VALUE`,
		"X Token=" + plantedSecret:                      `"X Token=***": want NAME=VALUE`,
		plantedSecret:                                   `"***": want NAME=VALUE`,
		"=" + plantedSecret:                             `"=***": want NAME=VALUE`,
		"X-Token=" + plantedSecret + "\r\n":             `"X-Token=***": the value holds a control character`,
	} {
		_, _, err := ParseRemoteHeader(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseRemoteHeader(%q): %v, want %q", in, err, want)
		}
	}
}
