package main

import (
	"time"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

// writeReport writes a modelled matrix as a netchaos report (report.json,
// .md, .html, junit.xml) in dir, diffable against measured runs.
func writeReport(dir string, m trafficpolicy.IPVSModel, v trafficpolicy.IPVSVariant) error {
	at := time.Now().UTC().Truncate(time.Second)
	res, err := trafficpolicy.ModelResult(&m, v, at)
	if err != nil {
		return err
	}
	env := &experiments.Env{Context: "ipvs-model", RunID: "model-" + v.File, Cluster: res.Environment}
	return env.Report([]experiments.Result{res}, at).WriteDir(dir)
}
