// Command serve is the benchmark's package server: it serves a directory over HTTP with
// range requests (as a CDN serves APKs), so that the Bazel rows fetch packages the way
// users' http(s) locks do: signature, control and data members as separate ranged
// downloads, the data member then used as the layer blob as is.
//
// -latency delays every response, as a CDN's round trip does: downloads made one after
// another pay it each time, concurrent ones once.
//
//	serve -addr 127.0.0.1:0 -dir IN -port-file PORT [-latency 20ms]
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	dir := flag.String("dir", ".", "directory to serve")
	portFile := flag.String("port-file", "", "write the chosen port here once listening")
	latency := flag.Duration("latency", 0, "delay before each response (a CDN's round trip)")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *portFile != "" {
		port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		if err := os.WriteFile(*portFile+".tmp", []byte(port), 0o644); err != nil {
			return err
		}
		if err := os.Rename(*portFile+".tmp", *portFile); err != nil {
			return err
		}
	}
	files := http.FileServer(http.Dir(*dir))
	return http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(*latency)
		files.ServeHTTP(w, r)
	}))
}
