package verbs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageRefusesEnvTheConfigCannotHold: the config's Env is "K=V" strings, so a name
// with '=' or an empty name would silently become another variable, and NUL cuts a string.
func TestImageRefusesEnvTheConfigCannotHold(t *testing.T) {
	for _, tc := range []struct{ name, env, want string }{
		{"name with =", `{"A=B":"x"}`, `env: variable name "A=B" contains '=': the runtime would read it as "A"`},
		{"name =", `{"=":"x"}`, `env: variable name "=" contains '=': the runtime would read it as ""`},
		{"empty name", `{"":"x"}`, `env: empty variable name (value "x")`},
		{"NUL in name", `{"A\u0000B":"x"}`, `env: variable "A\x00B" contains a NUL byte, which no process environment can hold`},
		{"NUL in value", `{"A":"x\u0000y"}`, `env: variable "A" contains a NUL byte`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := `{"os":"linux","architecture":"amd64","env":` + tc.env + `}`
			out := t.TempDir()
			err := imageVerb([]string{"--spec-json", spec, "--config", filepath.Join(out, "c"), "--manifest", filepath.Join(out, "m"),
				"--digest", filepath.Join(out, "d"), "--descriptor", filepath.Join(out, "desc")})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "--spec-json: ") {
				t.Fatalf("err = %v, want %q naming the spec", err, tc.want)
			}
			t.Logf("message: %v", err)
			if left := entries(t, out); len(left) != 0 {
				t.Fatalf("left behind %v", left)
			}
		})
	}
}

// TestIndexRefusesBrokenDescriptors: the index verb lists what its descriptors say, so a
// negative size or a platform without os or architecture would reach the registry.
func TestIndexRefusesBrokenDescriptors(t *testing.T) {
	const digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	for _, tc := range []struct{ name, desc, want string }{
		{"negative size", `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":-5,"digest":"` + digest + `","platform":{"os":"linux","architecture":"amd64"}}`, "size -5 (a manifest is never empty)"},
		{"empty platform", `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"` + digest + `","platform":{}}`, `platform "/" has no os or architecture`},
		{"no architecture", `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"` + digest + `","platform":{"os":"linux"}}`, `platform "linux/" has no os or architecture`},
		{"no media type", `{"size":5,"digest":"` + digest + `","platform":{"os":"linux","architecture":"amd64"}}`, "no mediaType"},
		{"short digest", `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"sha256:abcd","platform":{"os":"linux","architecture":"amd64"}}`, "wrong number of hex digits for sha256: abcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "image.desc")
			os.WriteFile(p, []byte(tc.desc), 0o644)
			out := t.TempDir()
			err := indexVerb([]string{"--manifest", p, "--index", filepath.Join(out, "i"), "--descriptor", filepath.Join(out, "d"), "--digest", filepath.Join(out, "g")})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want %q naming the descriptor", err, tc.want)
			}
			t.Logf("message: %v", err)
			if left := entries(t, out); len(left) != 0 {
				t.Fatalf("left behind %v", left)
			}
		})
	}
}

// TestImageSpecInline: the rules pass the spec on the command line (--spec-json), which
// gives the config its values; a bad one, or none, is refused with no output left.
func TestImageSpecInline(t *testing.T) {
	const spec = `{"os":"linux","architecture":"amd64","env":{"PATH":"/bin"},"cmd":["/bin/sh"],"labels":{"a":"b"}}`
	run := func(specArgs ...string) (map[string]string, error) {
		out := t.TempDir()
		err := imageVerb(append(specArgs, "--config", filepath.Join(out, "c"), "--manifest", filepath.Join(out, "m"),
			"--digest", filepath.Join(out, "d"), "--descriptor", filepath.Join(out, "desc")))
		got := map[string]string{}
		for _, n := range entries(t, out) {
			b, _ := os.ReadFile(filepath.Join(out, n))
			got[n] = string(b)
		}
		if err != nil && len(got) != 0 {
			t.Fatalf("%v: left behind %v", err, got)
		}
		return got, err
	}
	inline, err := run("--spec-json", spec)
	if err != nil {
		t.Fatal(err)
	}
	const want = `"Cmd":["/bin/sh"],"Env":["PATH=/bin"],"Labels":{"a":"b"}`
	if len(inline) != 4 || !strings.Contains(inline["c"], want) {
		t.Fatalf("--spec-json gave %v, want 4 outputs and a config holding %s", inline, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--spec-json", `{"os":"linux","architecture":"amd64","created":"yesterday"}`}, `--spec-json: created: parsing time "yesterday"`},
		{[]string{"--spec-json", `{"os":`}, "--spec-json: "},
		{[]string{"--spec-json", `{"os":"linux","architecture":"amd64","entrypoint":"/bin/sh"}`}, "--spec-json: json: cannot unmarshal"},
		{nil, "missing required flag --spec-json"},
	} {
		_, err := run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%q: err = %v, want %q", tc.args, err, tc.want)
		}
		t.Logf("message: %v", err)
	}
}
