package vuln

import (
	"encoding/json"
	"strings"
	"testing"
)

// alpineSecdb is a database in the shape of https://secdb.alpinelinux.org/v3.NN/main.json.
func alpineSecdb(t *testing.T, pkgs map[string]map[string][]string) []byte {
	t.Helper()
	type pkg struct {
		Name     string              `json:"name"`
		Secfixes map[string][]string `json:"secfixes"`
	}
	doc := map[string]any{
		"apkurl":        "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
		"archs":         []string{"aarch64", "x86_64"},
		"reponame":      "main",
		"urlprefix":     "https://dl-cdn.alpinelinux.org/alpine",
		"distroversion": "v3.22",
	}
	var list []map[string]pkg
	for name, fixes := range pkgs {
		list = append(list, map[string]pkg{"pkg": {Name: name, Secfixes: fixes}})
	}
	doc["packages"] = list
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func db(t *testing.T, name string, b []byte) *Database {
	t.Helper()
	d := NewDatabase()
	if err := d.Add(name, b); err != nil {
		t.Fatal(err)
	}
	return d
}

var locked = []Package{
	{Name: "libcrypto3", Version: "3.3.1-r0", Arch: "x86_64", Origin: "openssl"},
	{Name: "busybox", Version: "1.36.1-r29", Arch: "x86_64"},
	{Name: "libcrypto3", Version: "3.3.1-r0", Arch: "aarch64", Origin: "openssl"},
	{Name: "busybox", Version: "1.36.1-r29", Arch: "aarch64"},
}

func lines(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

func TestSecdbFindings(t *testing.T) {
	d := db(t, "main.json", alpineSecdb(t, map[string]map[string][]string{
		// libcrypto3 is filed under its origin; 3.3.1-r0 is below 3.3.2-r0 and 3.3.1-r1.
		"openssl": {
			"3.3.1-r1": {"CVE-2024-5535"},
			"3.3.2-r0": {"CVE-2024-6119 CVE-2024-9143"}, // two IDs in one entry, as Alpine writes them
			"3.1.0-r0": {"CVE-2023-0001"},               // fixed before the locked version
			"0":        {"CVE-2024-9143"},               // never affected: not a finding
		},
		"busybox": {
			"1.36.1-r30": {"CVE-2023-42363"},
			"1.36.1-r29": {"CVE-2023-42366"}, // fixed in exactly the locked version
		},
		"libcrypto3": {"9.9.9-r0": {"CVE-2099-0001"}}, // filed under the name, not the origin: unused
	}))
	r := Check(locked, d, nil, "2026-12-07")
	want := []string{
		"busybox 1.36.1-r29 [aarch64, x86_64]: CVE-2023-42363, fixed in 1.36.1-r30 (main.json)",
		"libcrypto3 3.3.1-r0 [aarch64, x86_64] (origin openssl): CVE-2024-5535, fixed in 3.3.1-r1 (main.json)",
		"libcrypto3 3.3.1-r0 [aarch64, x86_64] (origin openssl): CVE-2024-6119, fixed in 3.3.2-r0 (main.json)",
	}
	if got := lines(r.Findings); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	err := r.Error()
	if err == nil {
		t.Fatal("no error for findings")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), "\n  "+w+"\n") && !strings.HasSuffix(err.Error(), w) {
			t.Errorf("error lacks the line %q:\n%s", w, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "3 locked package version(s) below a fix") {
		t.Errorf("error = %q", err)
	}
}

func TestHighestFixWins(t *testing.T) {
	d := db(t, "a.json", alpineSecdb(t, map[string]map[string][]string{"busybox": {"1.36.1-r30": {"CVE-1"}}}))
	if err := d.Add("b.json", alpineSecdb(t, map[string]map[string][]string{"busybox": {"1.37.0-r0": {"CVE-1"}}})); err != nil {
		t.Fatal(err)
	}
	r := Check(locked[1:2], d, nil, "2026-12-07")
	if len(r.Findings) != 1 || r.Findings[0].Fixed != "1.37.0-r0" || r.Findings[0].Database != "b.json" {
		t.Errorf("findings = %v, want one fixed in 1.37.0-r0 from b.json", lines(r.Findings))
	}
}

func TestVersionOrderIsApks(t *testing.T) {
	// String order would call 1.36.1-r9 newer than 1.36.1-r29 and 1.10 older than 1.9.
	d := db(t, "db", alpineSecdb(t, map[string]map[string][]string{"busybox": {
		"1.36.1-r9": {"CVE-OLD"}, "1.36.1_rc1-r0": {"CVE-RC"}, "1.100.0-r0": {"CVE-NEW"},
	}}))
	r := Check(locked[1:2], d, nil, "2026-12-07")
	if len(r.Findings) != 1 || r.Findings[0].ID != "CVE-NEW" {
		t.Errorf("findings = %v, want only CVE-NEW", lines(r.Findings))
	}
}

func TestInvalidFixVersionWarns(t *testing.T) {
	d := db(t, "main.json", alpineSecdb(t, map[string]map[string][]string{"busybox": {"1.36.1-r30-backport": {"CVE-X"}}}))
	want := `main.json: package busybox: CVE-X: fixed version "1.36.1-r30-backport" is not an apk version; entry skipped`
	if len(d.Warnings) != 1 || d.Warnings[0] != want {
		t.Errorf("warnings = %q, want %q", d.Warnings, want)
	}
}

// wolfiSecdb is https://packages.wolfi.dev/os/security.json's shape.
const wolfiSecdb = `{
  "apkurl": "{{urlprefix}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
  "archs": ["x86_64", "aarch64"],
  "reponame": "os",
  "urlprefix": "https://packages.wolfi.dev",
  "packages": [
    {"pkg": {"name": "openssl", "secfixes": {"0": ["CVE-2023-0466"], "3.3.2-r0": ["CVE-2024-6119", "GHSA-xxxx-yyyy-zzzz"]}}}
  ]
}`

func TestWolfiSecdb(t *testing.T) {
	r := Check(locked[:1], db(t, "security.json", []byte(wolfiSecdb)), nil, "2026-12-07")
	got := lines(r.Findings)
	if len(got) != 2 || !strings.Contains(got[0], "CVE-2024-6119") || !strings.Contains(got[1], "GHSA-xxxx-yyyy-zzzz") {
		t.Errorf("findings = %q", got)
	}
}

// osvRecord is a Chainguard/Wolfi OSV advisory (advisories.cgr.dev/.../osv/CGA-*.json).
const osvOne = `{
  "schema_version": "1.6.0",
  "id": "CGA-2222-3333-4444",
  "aliases": ["CVE-2024-5535", "GHSA-aaaa-bbbb-cccc"],
  "affected": [{
    "package": {"ecosystem": "Wolfi", "name": "openssl", "purl": "pkg:apk/wolfi/openssl"},
    "ranges": [
      {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.3.1-r1"}]},
      {"type": "GIT", "repo": "https://github.com/openssl/openssl", "events": [{"introduced": "0"}, {"fixed": "abc"}]}
    ]
  }]
}`

func TestOSV(t *testing.T) {
	arr := `[` + osvOne + `,
	{"id": "ALPINE-CVE-2099-1", "aliases": [], "affected": [{"package": {"name": "openssl"},
	  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.4.0-r0"}, {"fixed": "3.4.1-r0"}]}]}]},
	{"id": "CGA-no-fix", "aliases": ["CVE-2099-2"], "affected": [{"package": {"name": "openssl"},
	  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}]`
	for name, b := range map[string]string{"one": osvOne, "array": arr} {
		r := Check(locked[:1], db(t, name, []byte(b)), nil, "2026-12-07")
		want := "libcrypto3 3.3.1-r0 [x86_64] (origin openssl): CVE-2024-5535, fixed in 3.3.1-r1 (" + name + ")"
		if got := lines(r.Findings); len(got) != 1 || got[0] != want {
			t.Errorf("%s: findings = %q, want [%q] (the 3.4 range starts after the locked version; no fix, no finding)", name, got, want)
		}
	}
}

func TestDatabaseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"reponame": "main"}`: `neither a secdb (top-level "packages") nor OSV ("affected", or an array of records)`,
		`not json`:             "not JSON",
		`{"packages": [{"pkg": {"secfixes": {}}}]}`:  "secdb package 0 has no name",
		`{"packages": {"pkg": 1}}`:                   "secdb packages: json: cannot unmarshal object",
		`[{"affected": []}]`:                         `record 0: OSV record without "id"`,
		`{"id": "X", "affected": [{"package": {}}]}`: "OSV record X: affected package without a name",
		`[1]`: "not a JSON array of OSV records",
	} {
		err := NewDatabase().Add("db.json", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}
