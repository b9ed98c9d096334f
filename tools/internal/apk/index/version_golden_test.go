package index

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// goldenRow is one line of testdata/apkversion/golden.tsv, written by apk-tools' own code
// (tools/dev/apkversion/golden.sh): t A OP B (compare), c V 0|1 (valid), m A OP B 0|1 (match).
type goldenRow struct{ kind, a, op, b, ok string }

func readGolden(t *testing.T) []goldenRow {
	t.Helper()
	f, err := os.Open("testdata/apkversion/golden.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []goldenRow
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "#") {
			continue
		}
		f := strings.Split(s.Text(), "\t")
		switch {
		case f[0] == "t" && len(f) == 4:
			rows = append(rows, goldenRow{kind: "t", a: f[1], op: f[2], b: f[3]})
		case f[0] == "c" && len(f) == 3:
			rows = append(rows, goldenRow{kind: "c", a: f[1], ok: f[2]})
		case f[0] == "m" && len(f) == 5:
			rows = append(rows, goldenRow{kind: "m", a: f[1], op: f[2], b: f[3], ok: f[4]})
		default:
			t.Fatalf("golden.tsv: bad line %q", s.Text())
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

var opName = map[int]string{-1: "<", 0: "=", 1: ">"}

// TestGoldenApkTools: ordering, validity and matching agree with apk-tools on every row.
func TestGoldenApkTools(t *testing.T) {
	rows := readGolden(t)
	if len(rows) < 150 {
		t.Fatalf("golden.tsv has %d rows", len(rows))
	}
	for _, r := range rows {
		switch r.kind {
		case "t":
			if got := opName[CompareVersions(r.a, r.b)]; got != r.op {
				t.Errorf("CompareVersions(%q, %q) = %s, apk-tools says %s", r.a, r.b, got, r.op)
			}
			if got := opName[CompareVersions(r.b, r.a)]; got != opName[-strings.Index("<=>", r.op)+1] {
				t.Errorf("CompareVersions(%q, %q) = %s, not the reverse of %s", r.b, r.a, got, r.op)
			}
		case "c":
			if got := ValidVersion(r.a); got != (r.ok == "1") {
				t.Errorf("ValidVersion(%q) = %v, apk-tools says %s", r.a, got, r.ok)
			}
		case "m":
			if got := MatchVersion(r.a, r.op, r.b); got != (r.ok == "1") {
				t.Errorf("MatchVersion(%q, %q, %q) = %v, apk-tools says %s", r.a, r.op, r.b, got, r.ok)
			}
		}
	}
}

// TestApkBinary asks an installed apk (apk version -t / -c) the same questions; it runs only
// where apk is on PATH. apk refuses to compare invalid versions (exit 1).
func TestApkBinary(t *testing.T) {
	apk, err := exec.LookPath("apk")
	if err != nil {
		t.Skip("no apk on PATH")
	}
	for _, r := range readGolden(t) {
		switch r.kind {
		case "t":
			out, err := exec.Command(apk, "version", "-t", r.a, r.b).Output()
			valid := ValidVersion(r.a) && ValidVersion(r.b)
			if valid && (err != nil || strings.TrimSpace(string(out)) != r.op) {
				t.Errorf("apk version -t %q %q = %q, %v; golden says %s", r.a, r.b, out, err, r.op)
			}
			if !valid && err == nil {
				t.Errorf("apk version -t %q %q accepted an invalid version", r.a, r.b)
			}
		case "c":
			err := exec.Command(apk, "version", "-c", r.a).Run()
			if (err == nil) != (r.ok == "1") {
				t.Errorf("apk version -c %q: %v; golden says %s", r.a, err, r.ok)
			}
		}
	}
}

// TestCheckVersionMessages: what a user reads about a version apk-tools would refuse.
func TestCheckVersionMessages(t *testing.T) {
	for v, at := range map[string]string{"": `""`, "a1": `"a1"`, "1.": `"."`, "1.0_foo": `"_foo"`,
		"1.0-r": `"-r"`, "1.0 ": `" "`, "1.0a2": `"2"`, "1.0~": `"~"`, "1.0~abc_p1": `"_p1"`} {
		err := CheckVersion(v)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(v)+" is not an apk version") || !strings.HasSuffix(err.Error(), "invalid at "+at) {
			t.Errorf("CheckVersion(%q) = %v, want invalid at %s", v, err, at)
		}
	}
	if err := CheckVersion("1.0~abc-r1"); err != nil {
		t.Error(err)
	}
}
