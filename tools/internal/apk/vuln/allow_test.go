package vuln

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func finding(t *testing.T) *Database {
	t.Helper()
	return db(t, "main.json", alpineSecdb(t, map[string]map[string][]string{
		"openssl": {"3.3.2-r0": {"CVE-2024-6119"}},
		"busybox": {"1.36.1-r30": {"CVE-2023-42363"}},
	}))
}

func TestAllowList(t *testing.T) {
	allow, err := ParseAllowList([]byte(`{"allow": [
	  {"id": "CVE-2024-6119", "package": "openssl", "reason": "no TLS in this image", "expires": "2026-12-07"},
	  {"id": "CVE-2023-42363", "package": "busybox", "reason": "awk is not run", "expires": "2026-12-06"},
	  {"id": "CVE-2024-6119", "package": "busybox", "reason": "another package"},
	  {"id": "CVE-2000-0001", "reason": "long fixed"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(locked, finding(t), allow, "2026-12-07")
	// The entry naming the origin allows the subpackage; it expires at the end of its day.
	if got := lines(r.Allowed); len(got) != 1 || !strings.HasPrefix(got[0], "libcrypto3 3.3.1-r0") {
		t.Errorf("allowed = %q", got)
	}
	if len(r.Findings) != 1 || r.Findings[0].ID != "CVE-2023-42363" {
		t.Fatalf("findings = %q, want busybox's, its entry expired", lines(r.Findings))
	}
	if err := r.Error(); err == nil || !strings.Contains(err.Error(), "CVE-2023-42363, fixed in 1.36.1-r30 (main.json); allow entry expired 2026-12-06") {
		t.Errorf("error = %v", err)
	}
	wantStale := []string{
		"allow list entry 3 (CVE-2024-6119 in busybox) matches no finding; remove it",
		"allow list entry 4 (CVE-2000-0001) matches no finding; remove it",
	}
	if strings.Join(r.Stale, "\n") != strings.Join(wantStale, "\n") {
		t.Errorf("stale = %q, want %q", r.Stale, wantStale)
	}
	// A day earlier the busybox entry still allows and the gate passes.
	if err := Check(locked, finding(t), allow, "2026-12-06").Error(); err != nil {
		t.Errorf("on 2026-12-06: %v", err)
	}
}

func TestAllowListErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"allow": [{"id": "CVE-1", "reason": "ok"}, {"id": "CVE-2", "package": "busybox"}]}`: "entry 2 (CVE-2 in busybox): no reason; say why the vulnerability is accepted",
		`{"allow": [{"reason": "why"}]}`:                                       "entry 1 (): no id (the CVE or advisory ID it accepts)",
		`{"allow": [{"id": "CVE-1", "reason": "r", "expires": "31.12.2026"}]}`: `entry 1 (CVE-1): expires "31.12.2026" is not a date (YYYY-MM-DD)`,
		`{"allow": [{"id": "CVE-1", "reason": "r", "until": "2026-01-01"}]}`:   `json: unknown field "until"`,
	} {
		_, err := ParseAllowList([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
	path := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(path, []byte(`{"allow": [{"id": "CVE-1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAllowList(path); err == nil || !strings.HasPrefix(err.Error(), "allow list "+path+": entry 1 (CVE-1): no reason") {
		t.Errorf("ReadAllowList: %v", err)
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "security.json")
	if err := os.WriteFile(path, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := NewDatabase().ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), "vulnerability database "+path+": neither a secdb") {
		t.Errorf("ReadFile: %v", err)
	}
	if err := NewDatabase().ReadFile(path + ".missing"); err == nil || !strings.Contains(err.Error(), "security.json.missing") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}
