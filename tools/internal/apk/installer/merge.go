package installer

import (
	"archive/tar"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/gzsplice"
)

// MergeInputs are the gzsplice inputs that join packages' data layers (blobs, with each
// package's files, in install order) into one layer: each path appears once, a file as the
// last package has it (as a later layer would win), a directory as the first package has
// it (apk keeps an existing directory). A hardlink whose target a later package replaces
// takes over its target's entry (see orphanedLinks).
func MergeInputs(blobs []string, files [][]apkfile.Entry) []gzsplice.Input {
	keep := map[string]int{} // path -> index of the input whose entry survives
	for i, fs := range files {
		for _, e := range fs {
			if _, seen := keep[e.Path]; e.Type != "dir" || !seen {
				keep[e.Path] = i
			}
		}
	}
	var ins []gzsplice.Input
	for i, blob := range blobs {
		o := orphanedLinks(files[i], i, keep)
		ins = append(ins, gzsplice.Input{Path: blob,
			Drop: func(name string) bool {
				if _, ok := o.renamed[name]; ok {
					return false // the entry stays, as its first orphaned hardlink
				}
				return name == "." || o.heirs[name] || keep[name] != i
			},
			Rewrite: o.rewrite,
		})
	}
	return ins
}

// orphans says what becomes of one package's hardlinks whose target a later package
// replaces (tar entries by cleaned name).
type orphans struct {
	renamed map[string]string // target file -> the hardlink its entry is renamed to
	heirs   map[string]bool   // those hardlinks: their own entry is dropped
	relinks map[string]string // the target's other orphaned hardlinks -> the heir
}

// orphanedLinks finds the kept hardlinks of input i whose target a later package replaces.
//
// In apk, package b replacing a's file f writes a new file and renames it over f, so a's
// hardlink h to f keeps the old inode: h keeps a's content (and the installed db still has
// h as a's). Dropping a's f entry and keeping h's would leave a hardlink before its
// target in the merged tar, which tar readers cannot unpack ("Cannot hard link"), and
// which would anyway make h b's content. So a's f entry stays where it is, with its data
// and its inode's metadata, renamed to the first such hardlink h (whose own entry is
// dropped); a's other hardlinks to f link to h instead; b's f comes later, under f.
// gzsplice re-encodes the blocks that hold those headers, and the data blocks are copied.
// The renamed entry may come before the entry of h's directory; tar readers and OCI
// runtimes create a missing parent and apply the directory's entry when it comes.
func orphanedLinks(files []apkfile.Entry, i int, keep map[string]int) *orphans {
	o := &orphans{renamed: map[string]string{}, heirs: map[string]bool{}, relinks: map[string]string{}}
	for _, e := range files {
		if e.Type != "hardlink" || keep[e.Path] != i || keep[e.Linkname] == i {
			continue
		}
		if heir, ok := o.renamed[e.Linkname]; ok {
			o.relinks[e.Path] = heir
		} else {
			o.renamed[e.Linkname] = e.Path
			o.heirs[e.Path] = true
		}
	}
	return o
}

// rewrite gives the new headers of a renamed target and of relinked hardlinks.
func (o *orphans) rewrite(name string, h *tar.Header) *tar.Header {
	if heir, ok := o.renamed[name]; ok {
		h.Name = heir
		return h
	}
	if heir, ok := o.relinks[name]; ok {
		h.Linkname = heir
		return h
	}
	return nil
}
