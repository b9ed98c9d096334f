package attribution

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Explain writes, for each path, its owner and the owners it replaced; a symlink's target
// is followed as far as the image's entries go. Every path is explained before an error
// names those the image does not hold (with close matches).
func (d *Document) Explain(w io.Writer, paths []string) error {
	byPath := make(map[string]*File, len(d.Files))
	for _, f := range d.Files {
		byPath[f.Path] = f
	}
	var missing []string
	for _, p := range paths {
		f, ok := byPath["/"+clean(p)]
		if !ok {
			missing = append(missing, d.missing(p))
			continue
		}
		d.explainOne(w, f, byPath)
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "\n"))
	}
	return nil
}

// explainOne writes one path's lines.
func (d *Document) explainOne(w io.Writer, f *File, byPath map[string]*File) {
	fmt.Fprintf(w, "%s (%s %04o)\n", f.Path, f.Type, f.Mode)
	switch f.Type {
	case "symlink":
		fmt.Fprintf(w, "  symlink to %s%s\n", f.Link, d.resolved(f, byPath))
	case "hardlink":
		fmt.Fprintf(w, "  hard link to %s\n", f.Link)
	}
	fmt.Fprintf(w, "  from %s\n", d.describe(f.Owner))
	for i := len(f.Replaced) - 1; i >= 0; i-- {
		o := f.Replaced[i]
		verb := "replaced"
		if o.Deleted {
			verb = "deleted by"
		}
		fmt.Fprintf(w, "  %s %s\n", verb, d.describe(o))
	}
}

// resolved follows a symlink through the image's symlinks (at most 40, as Linux does).
func (d *Document) resolved(f *File, byPath map[string]*File) string {
	p := f.Path
	for range 40 {
		target := f.Link
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		p = path.Clean(target)
		next, ok := byPath[p]
		if !ok {
			return fmt.Sprintf(" (%s is not in the image)", p)
		}
		if next.Type != "symlink" {
			return fmt.Sprintf(" (resolves to %s, from %s)", p, d.describe(next.Owner))
		}
		f = next
	}
	return " (too many levels of symlinks)"
}

// describe names an owner: layer, digest, then the package or label.
func (d *Document) describe(o Owner) string {
	s := fmt.Sprintf("layer %d (%s)", o.Layer, o.Digest)
	switch {
	case o.Package != nil:
		p := o.Package
		s += fmt.Sprintf(": package %s@%s", p.Name, p.Version)
		var extra []string
		if p.Origin != "" {
			extra = append(extra, "origin "+p.Origin)
		}
		if p.License != "" {
			extra = append(extra, "license "+p.License)
		}
		if len(extra) > 0 {
			s += " (" + strings.Join(extra, ", ") + ")"
		}
		if o.Label != "" {
			s += ", " + o.Label
		}
	case o.Label != "":
		s += ": " + o.Label
	}
	return s
}

// missing is the message for a path the image does not hold, or, when a pulled base's
// layers are not listed, holds in none of the listed layers.
func (d *Document) missing(p string) string {
	p = "/" + clean(p)
	var unknown []string
	base := ""
	for _, l := range d.Layers {
		if l.Entries == "unknown" {
			unknown = append(unknown, fmt.Sprint(l.Index))
			base = l.Base
		}
	}
	msg := p + " is not in the image"
	if len(unknown) > 0 {
		msg = fmt.Sprintf("%s is in none of the image's listed layers; the layers %s of base image %s are not listed (their entries are known only by unpacking them, which explain does not do), so it may be in one of them", p, strings.Join(unknown, ", "), base)
	}
	if close := d.closeMatches(p, 5); len(close) > 0 {
		msg += "; did you mean " + strings.Join(close, ", ") + "?"
	}
	return msg
}

// closeMatches are up to n paths with p's base name, else within a small edit distance of p.
func (d *Document) closeMatches(p string, n int) []string {
	type match struct {
		path string
		dist int
	}
	var ms []match
	base := path.Base(p)
	for _, f := range d.Files {
		if path.Base(f.Path) == base {
			ms = append(ms, match{f.Path, 0})
		} else if dist := editDistance(f.Path, p); dist <= max(2, len(p)/5) {
			ms = append(ms, match{f.Path, dist})
		}
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].dist != ms[j].dist {
			return ms[i].dist < ms[j].dist
		}
		return ms[i].path < ms[j].path
	})
	var out []string
	for _, m := range ms[:min(n, len(ms))] {
		out = append(out, m.path)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
