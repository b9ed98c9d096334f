package apkoconfig

import "testing"

// CheckLayering: the file's layering and the rule's apk_layering/apk_layer_budget must say
// the same, each mismatch with the message a user reads.
func TestCheckLayering(t *testing.T) {
	origin := &Layering{Strategy: "origin", Budget: 3}
	for _, c := range []struct {
		file     *Layering
		budget   int
		layering string
		want     string
	}{
		{nil, 0, "", ""},
		{nil, 8, "", ""}, // contiguous runs, as without layering
		{origin, 3, "origin", ""},
		{nil, 3, "origin", `the rule's apk_layering is "origin" but the file has no layering: add layering: {strategy: origin, budget: 3}, or leave apk_layering out`},
		{origin, 3, "", `layering is {strategy: origin, budget: 3} but the rule has apk_layering = "", apk_layer_budget = 3: set apk_layering = "origin" and apk_layer_budget = 3 (Bazel groups layers before it can read apko.yaml)`},
		{origin, 5, "origin", `layering is {strategy: origin, budget: 3} but the rule has apk_layering = "origin", apk_layer_budget = 5: set apk_layering = "origin" and apk_layer_budget = 3 (Bazel groups layers before it can read apko.yaml)`},
		{&Layering{Strategy: "size"}, 0, "origin", `layering.strategy "size": only "origin" is known to apko`},
	} {
		err := (&Config{Layering: c.file}).CheckLayering(c.budget, c.layering)
		if got := ""; err != nil {
			got = err.Error()
			if got != c.want {
				t.Errorf("%+v, %d, %q: %s, want %s", c.file, c.budget, c.layering, got, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%+v, %d, %q: no error, want %s", c.file, c.budget, c.layering, c.want)
		}
	}
}
