package gzsplice

import (
	"fmt"
	pathpkg "path"
	"strings"
)

// StackLayer is one whole layer to stack: its gzip file and its entries' names, with each
// hardlink's target.
type StackLayer struct {
	Path   string
	Names  []string
	Linkto map[string]string // hardlink name -> target name
}

// stackName is a tar entry's path as stacking compares them ("./a/", "/a" and "a" alike).
func stackName(n string) string { return strings.TrimPrefix(pathpkg.Clean("/"+n), "/") }

// StackInputs are the inputs that Join layers as a runtime stacks them: an entry of a
// later layer replaces every earlier entry of the same path (a directory's too), so the
// joined layer unpacks to what the layers unpack to one over another. Whiteouts are
// refused (in one layer they would delete entries of that same layer), and so is a
// hardlink whose target a later layer replaces (it would link to the later file).
func StackInputs(layers []StackLayer) ([]Input, error) {
	last := map[string]int{}
	for i, l := range layers {
		for _, n := range l.Names {
			n = stackName(n)
			if strings.HasPrefix(pathpkg.Base(n), ".wh.") {
				return nil, fmt.Errorf("%s: %s is a whiteout, which a stacked layer cannot hold", l.Path, n)
			}
			last[n] = i
		}
	}
	ins := make([]Input, len(layers))
	for i, l := range layers {
		for link, target := range l.Linkto {
			link, target = stackName(link), stackName(target)
			if last[link] == i && last[target] != i {
				return nil, fmt.Errorf("%s: hardlink %s links to %s, which %s replaces", l.Path, link, target, layers[last[target]].Path)
			}
		}
		ins[i] = Input{Path: l.Path, Drop: func(name string) bool {
			n := stackName(name)
			return n == "" || last[n] != i
		}}
	}
	return ins, nil
}
