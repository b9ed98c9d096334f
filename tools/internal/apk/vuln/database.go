// Package vuln checks locked APK packages against the security databases Alpine and Wolfi
// publish: a package below a version that fixes a listed vulnerability is a finding, unless
// an allow list entry with a reason (and an expiry date not yet past) accepts it.
//
// Databases come in two shapes, told apart by their top level:
//   - secdb (Alpine's https://secdb.alpinelinux.org/v3.NN/main.json, Wolfi's
//     https://packages.wolfi.dev/os/security.json): {"packages": [{"pkg": {"name": ...,
//     "secfixes": {"<fixed version>": ["CVE-...", ...]}}}]}, filed by origin package name;
//     the version "0" means the package was never affected (Alpine: a CVE rejected for the
//     package; Wolfi/Chainguard: a false positive), so it is never a finding;
//   - OSV (Chainguard's and Wolfi's advisories, osv.dev's Alpine records): one record
//     {"id", "aliases", "affected": [{"package": {"name"}, "ranges": [{"type":
//     "ECOSYSTEM", "events": [{"introduced"}, {"fixed"}]}]}]} or a JSON array of them. A
//     range without "fixed" has no fix to be below, so it is not a finding (the gate is
//     about fixes the lock does not have, as with secdb).
package vuln

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

// NotAffected is the fixed version databases use to say a package was never affected.
const NotAffected = "0"

// Advisory is one vulnerability of one package (origin) name and where it is fixed.
type Advisory struct {
	ID         string
	Introduced string // first affected version; "" or "0": every version before Fixed
	Fixed      string // NotAffected: the package was never affected
	Database   string // the file it came from, for messages
}

// Database is the advisories of one or more files, by package name.
type Database struct {
	byPackage map[string][]Advisory
	// Warnings are entries that cannot be used (a fixed version that is not an apk
	// version), named with their file and package.
	Warnings []string
}

// NewDatabase returns an empty database.
func NewDatabase() *Database { return &Database{byPackage: map[string][]Advisory{}} }

// Advisories returns what the database lists for a package name.
func (d *Database) Advisories(name string) []Advisory { return d.byPackage[name] }

func (d *Database) add(name string, a Advisory) {
	if a.Fixed != NotAffected && !index.ValidVersion(a.Fixed) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s: package %s: %s: fixed version %q is not an apk version; entry skipped", a.Database, name, a.ID, a.Fixed))
		return
	}
	d.byPackage[name] = append(d.byPackage[name], a)
}

// ReadFile adds a database file, secdb or OSV, to d.
func (d *Database) ReadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("vulnerability database: %w", err)
	}
	if err := d.Add(path, b); err != nil {
		return fmt.Errorf("vulnerability database %s: %w", path, err)
	}
	return nil
}

// Add adds a database's bytes; name says where they came from in messages.
func (d *Database) Add(name string, b []byte) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var records []osvRecord
		if err := json.Unmarshal(trimmed, &records); err != nil {
			return fmt.Errorf("not a JSON array of OSV records: %w", err)
		}
		for i := range records {
			if err := d.addOSV(name, &records[i]); err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
		}
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	switch {
	case top["packages"] != nil:
		return d.addSecdb(name, top["packages"])
	case top["affected"] != nil:
		var r osvRecord
		if err := json.Unmarshal(trimmed, &r); err != nil {
			return fmt.Errorf("OSV record: %w", err)
		}
		return d.addOSV(name, &r)
	}
	return fmt.Errorf("neither a secdb (top-level \"packages\") nor OSV (\"affected\", or an array of records)")
}

type secdbPackage struct {
	Pkg struct {
		Name     string              `json:"name"`
		Secfixes map[string][]string `json:"secfixes"`
	} `json:"pkg"`
}

func (d *Database) addSecdb(name string, raw json.RawMessage) error {
	var pkgs []secdbPackage
	if err := json.Unmarshal(raw, &pkgs); err != nil {
		return fmt.Errorf("secdb packages: %w", err)
	}
	for i, p := range pkgs {
		if p.Pkg.Name == "" {
			return fmt.Errorf("secdb package %d has no name", i)
		}
		for _, fixed := range slices.Sorted(maps.Keys(p.Pkg.Secfixes)) {
			for _, entry := range p.Pkg.Secfixes[fixed] {
				// An entry may hold several IDs ("CVE-2021-1 CVE-2021-2"), as Alpine's do.
				for _, id := range strings.Fields(entry) {
					d.add(p.Pkg.Name, Advisory{ID: id, Fixed: fixed, Database: name})
				}
			}
		}
	}
	return nil
}

type osvRecord struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

// ids are the names a record is reported and allowed under: its CVE aliases, else its ID.
func (r *osvRecord) ids() []string {
	var cves []string
	for _, a := range r.Aliases {
		if strings.HasPrefix(a, "CVE-") {
			cves = append(cves, a)
		}
	}
	if strings.HasPrefix(r.ID, "CVE-") || len(cves) == 0 {
		return append([]string{r.ID}, cves...)
	}
	return cves
}

func (d *Database) addOSV(name string, r *osvRecord) error {
	if r.ID == "" {
		return fmt.Errorf("OSV record without \"id\"")
	}
	for _, a := range r.Affected {
		if a.Package.Name == "" {
			return fmt.Errorf("OSV record %s: affected package without a name", r.ID)
		}
		for _, rg := range a.Ranges {
			if rg.Type != "ECOSYSTEM" {
				continue // SEMVER and GIT ranges do not order apk versions
			}
			introduced := ""
			for _, ev := range rg.Events {
				if v, ok := ev["introduced"]; ok {
					introduced = v
				}
				if v, ok := ev["fixed"]; ok {
					for _, id := range r.ids() {
						d.add(a.Package.Name, Advisory{ID: id, Introduced: introduced, Fixed: v, Database: name})
					}
				}
			}
		}
	}
	return nil
}
