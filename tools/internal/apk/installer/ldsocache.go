package installer

import (
	"fmt"

	"github.com/rules-wharf/rules_wharf/tools/internal/ldso"
)

// LdsoCache is /etc/ld.so.cache for packages installed in order onto BaseDirs, as apko
// v1.2.39 writes it after installing them, from the packages' facts; nil when no package
// ships /etc/ld.so.conf (apko then writes none).
func LdsoCache(pkgs []*Installed) ([]byte, error) {
	t := ldso.NewTree()
	for d := range BaseDirs {
		t.Dir(d, "")
	}
	for _, p := range pkgs {
		if err := addToTree(t, p); err != nil {
			return nil, err
		}
	}
	b, err := t.Cache()
	if b == nil && err == nil {
		return nil, nil
	}
	for _, p := range pkgs {
		if p.Ldso == nil {
			return nil, fmt.Errorf("ld.so.cache: the facts of package %s were written by a wharf apk-extract "+
				"that recorded no ld.so facts: extract it again with this wharf", p.label())
		}
	}
	return b, err
}

// addToTree puts p's entries into t, with the ld.so facts of its libraries and conf files.
func addToTree(t *ldso.Tree, p *Installed) error {
	libs := map[int]*ldso.Lib{}
	conf := map[int][]byte{}
	if p.Ldso != nil {
		for _, l := range p.Ldso.Libs {
			libs[l.File] = &ldso.Lib{Machine: l.Machine, Sonames: l.Names(), NotShared: l.NotShared}
		}
		for _, c := range p.Ldso.Conf {
			conf[c.File] = c.Content
		}
	}
	owner := p.label()
	for i, e := range p.Entries {
		switch e.Type {
		case "dir":
			t.Dir(e.Path, owner)
		case "file":
			c, ok := conf[i]
			t.AddFile(e.Path, owner, ldso.File{Size: e.Size, Content: c, HasContent: ok, Lib: libs[i]})
		case "symlink":
			t.Symlink(e.Path, e.Linkname, owner)
		case "hardlink":
			if err := t.Hardlink(e.Path, e.Linkname); err != nil {
				return fmt.Errorf("package %s: %w", owner, err)
			}
		default:
			t.Other(e.Path, owner)
		}
	}
	return nil
}
