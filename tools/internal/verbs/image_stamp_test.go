package verbs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImageVerbStampsFromStatusAndLabelsFile(t *testing.T) {
	dir := t.TempDir()
	stable, volatile, labels := filepath.Join(dir, "stable"), filepath.Join(dir, "volatile"), filepath.Join(dir, "labels")
	os.WriteFile(stable, []byte("STABLE_GIT_COMMIT abc123\n"), 0o644)
	os.WriteFile(volatile, []byte("BUILD_TIMESTAMP 1700000000\n"), 0o644)
	os.WriteFile(labels, []byte("from.file=rev-{STABLE_GIT_COMMIT}\nboth=file\n"), 0o644)
	spec := `{"os":"linux","architecture":"amd64","labels":{"both":"rule"},"created":"{BUILD_TIMESTAMP}"}`
	config, _ := imageOutputs(t, dir, "--spec-json", spec, "--labels-file", labels, "--status", volatile, "--status", stable)
	var c struct {
		Created string
		Config  struct{ Labels map[string]string }
	}
	if err := json.Unmarshal(config, &c); err != nil {
		t.Fatal(err)
	}
	if c.Created != "2023-11-14T22:13:20Z" || c.Config.Labels["from.file"] != "rev-abc123" || c.Config.Labels["both"] != "rule" {
		t.Fatalf("config = %s", config)
	}
	// Unstamped: the same spec gives the epoch and the label as written.
	config, _ = imageOutputs(t, dir, "--spec-json", spec, "--labels-file", labels)
	if !strings.Contains(string(config), `"created":"1970-01-01T00:00:00Z"`) || !strings.Contains(string(config), `"from.file":"rev-{STABLE_GIT_COMMIT}"`) {
		t.Fatalf("unstamped config = %s", config)
	}
}

func TestImageVerbStampErrors(t *testing.T) {
	dir := t.TempDir()
	stable, labels := filepath.Join(dir, "stable"), filepath.Join(dir, "labels")
	os.WriteFile(stable, []byte("STABLE_GIT_COMMIT abc123\n"), 0o644)
	os.WriteFile(labels, []byte("no pair here\n"), 0o644)
	base := []string{"--spec-json", `{"os":"linux","architecture":"amd64","labels":{"v":"{BUILD_EMBED_LABEL}"}}`,
		"--config", filepath.Join(dir, "c"), "--manifest", filepath.Join(dir, "m"), "--digest", filepath.Join(dir, "d"), "--descriptor", filepath.Join(dir, "x")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", stable}, `label v = "{BUILD_EMBED_LABEL}": the workspace status has no key BUILD_EMBED_LABEL (keys: STABLE_GIT_COMMIT)`},
		{[]string{"--labels-file", labels}, "labels file: " + labels + `:1: "no pair here" is not KEY=VALUE`},
		{[]string{"--annotations-file", filepath.Join(dir, "none")}, "annotations file: open " + filepath.Join(dir, "none") + ": no such file or directory"},
	} {
		err := imageVerb(append(c.args, base...))
		if err == nil || err.Error() != c.want {
			t.Errorf("err = %v, want %s", err, c.want)
		}
		if _, serr := os.Stat(filepath.Join(dir, "m")); serr == nil {
			t.Errorf("%v left a manifest", c.args)
		}
	}
}

func TestIndexVerbStampsAnnotations(t *testing.T) {
	dir := t.TempDir()
	stable, ann := filepath.Join(dir, "stable"), filepath.Join(dir, "ann")
	os.WriteFile(stable, []byte("STABLE_GIT_COMMIT abc123\n"), 0o644)
	os.WriteFile(ann, []byte("org.opencontainers.image.revision={STABLE_GIT_COMMIT}\n"), 0o644)
	st := &stamping{status: []string{stable}, annotationsFiles: []string{ann}}
	got, err := st.indexAnnotations([]string{"z=1"})
	if err != nil || strings.Join(got, ",") != "org.opencontainers.image.revision=abc123,z=1" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := st.indexAnnotations([]string{"nokey"}); err == nil || err.Error() != `--annotation "nokey": want KEY=VALUE` {
		t.Fatalf("err = %v", err)
	}
}
