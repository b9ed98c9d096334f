// Command databin reads a data file through its runfiles: the layer test puts it in an image.
package main

import (
	"fmt"
	"os"
)

func main() {
	b, err := os.ReadFile(os.Args[0] + ".runfiles/_main/tests/layers/payload.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(string(b))
}
