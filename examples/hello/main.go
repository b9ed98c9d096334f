// Command hello is the example image's entrypoint: it prints what the image's APK packages
// and config put there, so a test can tell the whole stack worked.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func run() error {
	greeting, err := os.ReadFile("/usr/share/wharf/greeting.txt")
	if err != nil {
		return err
	}
	motd, err := os.ReadFile("/etc/motd")
	if err != nil {
		return err
	}
	fmt.Printf("greeting: %s\n", strings.TrimSpace(string(greeting)))
	fmt.Printf("motd: %s\n", strings.TrimSpace(string(motd)))
	fmt.Printf("GREETING_STYLE=%s\n", os.Getenv("GREETING_STYLE"))
	fmt.Printf("uid=%d gid=%d\n", os.Getuid(), os.Getgid())
	fmt.Printf("user=%s\n", userName(os.Getuid()))
	if wd, err := os.Getwd(); err == nil {
		fmt.Printf("cwd=%s\n", wd)
	}
	fmt.Printf("args=%q\n", os.Args[1:])
	db, err := os.ReadFile("/usr/lib/apk/db/installed")
	if err != nil {
		return err
	}
	var pkgs []string
	for _, line := range strings.Split(string(db), "\n") {
		if name, ok := strings.CutPrefix(line, "P:"); ok {
			pkgs = append(pkgs, name)
		}
	}
	fmt.Printf("apk packages: %s\n", strings.Join(pkgs, " "))
	return nil
}

// userName is the /etc/passwd name of uid, or "?" when the image has none.
func userName(uid int) string {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[2] == fmt.Sprint(uid) {
			return f[0]
		}
	}
	return "?"
}
