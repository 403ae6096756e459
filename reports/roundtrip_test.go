package reports

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The JSON a report writes is its schema. A report read and written again
// is the same bytes; and every example report, v1 ones too (judged again on
// reading, so their verdicts change), gives back its flows' stats and its
// markers byte for byte.

func TestFixtureRoundTripBytes(t *testing.T) {
	var a, b bytes.Buffer
	if err := JSON(&a, fixture()); err != nil {
		t.Fatal(err)
	}
	r, err := Decode(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the fixture's JSON differs after Decode and JSON")
	}
}

func TestExamplesRoundTrip(t *testing.T) {
	var paths []string
	err := filepath.WalkDir("examples", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "report.json" {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example reports: %v", err)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct {
				SchemaVersion string `json:"schema_version"`
				Experiments   []struct {
					Markers json.RawMessage `json:"markers"`
					Flows   []struct {
						Stats json.RawMessage `json:"stats"`
					} `json:"flows"`
				} `json:"experiments"`
			}
			if err := json.Unmarshal(in, &raw); err != nil {
				t.Fatal(err)
			}
			for i, e := range raw.Experiments {
				x := r.Experiments[i]
				sameJSON(t, x.Name+" markers", e.Markers, x.Markers)
				for j, f := range e.Flows {
					sameJSON(t, x.Name+"/"+x.Flows[j].Name+" stats", f.Stats, x.Flows[j].Stats)
				}
			}
			if raw.SchemaVersion != SchemaVersion {
				return
			}
			var want, got bytes.Buffer
			if err := json.Compact(&want, in); err != nil {
				t.Fatal(err)
			}
			if err := JSON(&got, r); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(want.Bytes(), '\n'), got.Bytes()) {
				t.Error("the report's JSON differs after Decode and JSON")
			}
		})
	}
}

// sameJSON checks that v is written as the JSON raw (compacted) holds; an
// absent raw wants v empty.
func sameJSON(t *testing.T, what string, raw json.RawMessage, v any) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 {
		if s := string(got); s != "null" && s != "[]" {
			t.Errorf("%s: absent in the file, written as %s", what, got)
		}
		return
	}
	var want bytes.Buffer
	if err := json.Compact(&want, raw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), got) {
		t.Errorf("%s: read\n%s\nwritten again as\n%s", what, want.Bytes(), got)
	}
}
