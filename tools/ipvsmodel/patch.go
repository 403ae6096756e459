package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A unified-diff applier for the recorded control patches: no patch(1) or
// git needed, and a patch that no longer applies (the proxier changed under
// it) fails instead of applying with fuzz.

var hunkRe = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// filePatch is one file's hunks.
type filePatch struct {
	path  string // relative, without the a/ b/ prefix
	hunks []hunk
}

type hunk struct {
	oldStart int
	lines    []string // each prefixed with ' ', '-' or '+'
}

func parsePatch(text string) ([]filePatch, error) {
	var out []filePatch
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "+++ "):
			p := strings.Fields(strings.TrimPrefix(l, "+++ "))[0]
			p = strings.TrimPrefix(p, "b/")
			out = append(out, filePatch{path: p})
		case strings.HasPrefix(l, "@@"):
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: hunk before a file header", i+1)
			}
			m := hunkRe.FindStringSubmatch(l)
			if m == nil {
				return nil, fmt.Errorf("line %d: bad hunk header %q", i+1, l)
			}
			start, _ := strconv.Atoi(m[1])
			h := hunk{oldStart: start}
			for i+1 < len(lines) {
				n := lines[i+1]
				if n == "" && i+2 >= len(lines) {
					break // the file's final newline
				}
				if n != "" && !strings.ContainsRune(" -+", rune(n[0])) {
					break
				}
				if n == "" {
					n = " " // an empty context line some editors strip
				}
				h.lines = append(h.lines, n)
				i++
			}
			out[len(out)-1].hunks = append(out[len(out)-1].hunks, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no file in the patch")
	}
	return out, nil
}

// apply applies the hunks to content; each hunk's old lines must appear
// exactly at their recorded line.
func (fp filePatch) apply(content string) (string, error) {
	src := strings.Split(content, "\n")
	var dst []string
	at := 0 // next source line (0-based) not yet copied
	for n, h := range fp.hunks {
		start := h.oldStart - 1
		if start < at {
			return "", fmt.Errorf("%s hunk %d overlaps the previous one", fp.path, n+1)
		}
		dst = append(dst, src[at:start]...)
		i := start
		for _, l := range h.lines {
			body := l[1:]
			switch l[0] {
			case ' ', '-':
				if i >= len(src) || src[i] != body {
					got := "end of file"
					if i < len(src) {
						got = fmt.Sprintf("%q", src[i])
					}
					return "", fmt.Errorf("%s hunk %d: line %d is %s, the patch expects %q (the proxier changed: re-record the patch)", fp.path, n+1, i+1, got, body)
				}
				if l[0] == ' ' {
					dst = append(dst, body)
				}
				i++
			case '+':
				dst = append(dst, body)
			}
		}
		at = i
	}
	dst = append(dst, src[at:]...)
	return strings.Join(dst, "\n"), nil
}

// applyPatchFile applies a recorded patch to the tree at root.
func applyPatchFile(patch, root string) error {
	b, err := os.ReadFile(patch)
	if err != nil {
		return err
	}
	fps, err := parsePatch(string(b))
	if err != nil {
		return err
	}
	for _, fp := range fps {
		p := filepath.Join(root, filepath.FromSlash(fp.path))
		old, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out, err := fp.apply(string(old))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			return err
		}
	}
	return nil
}
