// Command apidocs writes the Markdown page of an OpenAPI document: docs/api.md from
// internal/httpapi/openapi.json, as the go:generate line of internal/apidocs runs it.
//
//	go run ./internal/apidocs/cmd/apidocs -in internal/httpapi/openapi.json -out docs/api.md
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/ticketflow/ticketflow/internal/apidocs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apidocs:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", apidocs.Source, "the OpenAPI document")
	out := flag.String("out", apidocs.Page, "the page to write")
	flag.Parse()
	doc, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	page, err := apidocs.Generate(doc)
	if err != nil {
		return err
	}
	// An unchanged page is left alone, so its modification time says when it last changed.
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, page) {
		return nil
	}
	return os.WriteFile(*out, page, 0o644)
}
