package verbs

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/vuln"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

// vulnCheckVerb is apk_vulnerability_test's check: the lock's packages against the
// databases, with the allow list. It writes nothing: the error is the test's failure.
func vulnCheckVerb(args []string, log io.Writer) error {
	var databases, facts cli.Strings
	var lockPath, allowPath, today string
	fs := newFlags("vuln-check")
	fs.StringVar(&lockPath, "lock", "", "the apko lock (apko.lock.json)")
	fs.Var(&databases, "database", "a vulnerability database: secdb (Alpine, Wolfi) or OSV JSON (repeatable)")
	fs.Var(&facts, "facts", "package facts JSON from apk-extract, for the packages' origins (repeatable)")
	fs.StringVar(&allowPath, "allow", "", `allow list JSON: {"allow": [{"id", "package", "reason", "expires"}]}`)
	fs.StringVar(&today, "today", "", "the date allow entries expire against (YYYY-MM-DD); default: today (UTC)")
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	if err := cli.Require("lock", lockPath); err != nil {
		return err
	}
	if len(databases) == 0 {
		return fmt.Errorf("vuln-check: no --database")
	}
	if today == "" {
		today = time.Now().UTC().Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, today); err != nil {
		return fmt.Errorf("--today %q is not a date (YYYY-MM-DD)", today)
	}
	pkgs, err := lockedPackages(lockPath, facts)
	if err != nil {
		return err
	}
	db := vuln.NewDatabase()
	for _, d := range databases {
		if err := db.ReadFile(d); err != nil {
			return err
		}
	}
	var allow []vuln.Allow
	if allowPath != "" {
		if allow, err = vuln.ReadAllowList(allowPath); err != nil {
			return err
		}
	}
	r := vuln.Check(pkgs, db, allow, today)
	writeVulnReport(log, db, r, len(pkgs))
	return r.Error()
}

func lockedPackages(lockPath string, factsFiles []string) ([]vuln.Package, error) {
	b, err := os.ReadFile(lockPath)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	origins := map[string]string{}
	for _, f := range factsFiles {
		facts, err := apkfile.ReadFacts(f)
		if err != nil {
			return nil, err
		}
		origins[facts.PkgInfo.Name] = facts.PkgInfo.Origin
	}
	return vuln.FromLock(l, origins), nil
}

func writeVulnReport(log io.Writer, db *vuln.Database, r vuln.Report, n int) {
	for _, w := range db.Warnings {
		fmt.Fprintln(log, "warning: "+w)
	}
	for _, w := range r.Stale {
		fmt.Fprintln(log, "warning: "+w)
	}
	for _, f := range r.Allowed {
		fmt.Fprintf(log, "allowed: %s: %s\n", f, f.Allow.Reason)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(log, "%d locked packages: no vulnerability with a fix the lock lacks (%d allowed)\n", n, len(r.Allowed))
	}
}
