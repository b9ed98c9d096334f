package verbs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// vulnArgs are vuln-check's flags for the example lock and tests/vulnerability's databases
// (the Bazel test //tests/vulnerability:example_test runs the passing case).
func vulnArgs(t *testing.T, extra ...string) []string {
	return append([]string{
		"--lock", srctree.Path(t, "examples/hello_image/apko.lock.json"),
		"--database", srctree.Path(t, "tests/vulnerability/secdb.json"),
		"--database", srctree.Path(t, "tests/vulnerability/osv.json"),
		"--today", "2026-12-07",
	}, extra...)
}

func TestVulnCheckFailsOnTheExampleLock(t *testing.T) {
	var log bytes.Buffer
	err := vulnCheckVerb(vulnArgs(t), &log)
	if err == nil {
		t.Fatalf("no error; log:\n%s", log.String())
	}
	secdb, osv := srctree.Path(t, "tests/vulnerability/secdb.json"), srctree.Path(t, "tests/vulnerability/osv.json")
	want := "2 locked package version(s) below a fix (package version [archs]: vulnerability, fixed in version (database)):\n" +
		"  wharf-greeting 0.3.0-r2 [aarch64, x86_64]: CVE-2099-0004, fixed in 0.3.0-r3 (" + osv + ")\n" +
		"  wharf-motd 2.1.0-r1 [aarch64, x86_64]: CVE-2099-0001, fixed in 2.1.0-r2 (" + secdb + ")\n" +
		"update the lock (bazel run the apk_lock target) or add the ID to the allow list with a reason"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestVulnCheckAllowList(t *testing.T) {
	var log bytes.Buffer
	allow := srctree.Path(t, "tests/vulnerability/allow.json")
	if err := vulnCheckVerb(vulnArgs(t, "--allow", allow), &log); err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	for _, want := range []string{
		"allowed: wharf-motd 2.1.0-r1 [aarch64, x86_64]: CVE-2099-0001, fixed in 2.1.0-r2 (",
		"): the motd is never shown: the image has no login\n",
		"6 locked packages: no vulnerability with a fix the lock lacks (2 allowed)\n",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	// The same allow list on a day after the motd entry's expiry no longer allows it.
	dir := t.TempDir()
	expiring := filepath.Join(dir, "allow.json")
	b, err := os.ReadFile(allow)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(expiring, bytes.Replace(b, []byte("2099-12-31"), []byte("2026-12-06"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	err = vulnCheckVerb(vulnArgs(t, "--allow", expiring), &log)
	if err == nil || !strings.Contains(err.Error(), "CVE-2099-0001, fixed in 2.1.0-r2 (") || !strings.Contains(err.Error(), "; allow entry expired 2026-12-06") {
		t.Errorf("after expiry: %v", err)
	}
}

func TestVulnCheckWarnsAndErrs(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.json")
	if err := os.WriteFile(stale, []byte(`{"allow": [{"id": "CVE-2099-0001", "reason": "r"}, {"id": "CVE-2099-0004", "reason": "r"}, {"id": "CVE-1999-0001", "reason": "gone"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := vulnCheckVerb(vulnArgs(t, "--allow", stale), &log); err != nil {
		t.Fatal(err)
	}
	if want := "warning: allow list entry 3 (CVE-1999-0001) matches no finding; remove it\n"; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	facts := filepath.Join(dir, "facts.json")
	if err := os.WriteFile(facts, []byte(`{"pkginfo": {"name": "wharf-motd", "version": "2.1.0-r1", "origin": "wharf"}, "files": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// With its origin known, wharf-motd is looked up as "wharf", which the database lacks.
	if err := vulnCheckVerb(vulnArgs(t, "--allow", stale, "--facts", facts), &log); err != nil || !strings.Contains(log.String(), "warning: allow list entry 1 (CVE-2099-0001) matches no finding") {
		t.Errorf("with origins: %v\n%s", err, log.String())
	}
	for args, want := range map[string]string{
		"--lock " + filepath.Join(dir, "none.json") + " --database x": "lock: open " + filepath.Join(dir, "none.json"),
		"--lock " + stale + " --database x":                           "lock " + stale + ": ",
		"--lock " + stale:                                             "vuln-check: no --database",
		"--database x":                                                "missing required flag --lock",
		"--lock " + stale + " --database x --today 7.12.2026":         `--today "7.12.2026" is not a date (YYYY-MM-DD)`,
		"--lock " + srctree.Path(t, "examples/hello_image/apko.lock.json") + " --database " + stale: "vulnerability database " + stale + ": neither a secdb",
	} {
		err := vulnCheckVerb(strings.Fields(args), &log)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
	}
}
