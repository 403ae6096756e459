package main

import (
	"github.com/netchaos/netchaos/experiments/catalog"
	"github.com/netchaos/netchaos/reports"
)

// load reads a report, marking a v1 report's control flows from the catalog.
func load(path string) (*reports.Report, error) {
	r, err := reports.Load(path)
	if err != nil {
		return nil, err
	}
	r.MarkControls(catalog.Controls)
	return r, nil
}
