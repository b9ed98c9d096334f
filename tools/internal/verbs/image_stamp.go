package verbs

import (
	"flag"
	"fmt"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// stamping is what the image and index verbs take from labels/annotations files and the
// workspace status: the flags and their application to a spec.
type stamping struct {
	status, labelsFiles, annotationsFiles cli.Strings
}

// flags registers --status and --annotations-file, and with labels --labels-file.
func (st *stamping) flags(fs *flag.FlagSet, labels bool) {
	fs.Var(&st.status, "status", "a workspace status file (stable-status.txt, volatile-status.txt; repeatable): {KEY} in labels, annotations and created is expanded; given only when stamping")
	if labels {
		fs.Var(&st.labelsFiles, "labels-file", "a file of KEY=VALUE labels under the spec's own (repeatable)")
	}
	fs.Var(&st.annotationsFiles, "annotations-file", "a file of KEY=VALUE annotations under the spec's own (repeatable)")
}

// apply puts the files' entries under the spec's own, then expands placeholders (or, not
// stamping, leaves labels and annotations as written).
func (st *stamping) apply(sf *oci.SpecFile) error {
	var err error
	if sf.Labels, err = underFiles(sf.Labels, st.labelsFiles, "labels file"); err != nil {
		return err
	}
	if sf.Annotations, err = underFiles(sf.Annotations, st.annotationsFiles, "annotations file"); err != nil {
		return err
	}
	var status map[string]string
	if len(st.status) > 0 {
		if status, err = stamp.ReadStatus(st.status...); err != nil {
			return err
		}
	}
	return sf.Stamp(status)
}

// underFiles returns own's entries over those of the files, an earlier file's winning.
func underFiles(own map[string]string, files []string, what string) (map[string]string, error) {
	for _, f := range files {
		kv, err := oci.ReadKeyValues(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		own = oci.MergeUnder(own, kv)
	}
	return own, nil
}

// indexAnnotations is --annotation's KEY=VALUE list with the annotations files under it,
// stamped, as KEY=VALUE in key order.
func (st *stamping) indexAnnotations(annotations []string) ([]string, error) {
	sf := &oci.SpecFile{Annotations: map[string]string{}}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("--annotation %q: want KEY=VALUE", a)
		}
		sf.Annotations[k] = v
	}
	if err := st.apply(sf); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range oci.SortedKeys(sf.Annotations) {
		out = append(out, k+"="+sf.Annotations[k])
	}
	return out, nil
}
