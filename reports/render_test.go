package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderersGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(io.Writer, *Report) error
	}{
		{"report.md", Markdown},
		{"report.html", HTML},
		{"junit.xml", JUnit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b, fixture()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestRenderersDeterministic(t *testing.T) {
	for _, render := range []func(io.Writer, *Report) error{Markdown, HTML, JUnit} {
		var a, b bytes.Buffer
		if err := render(&a, fixture()); err != nil {
			t.Fatal(err)
		}
		if err := render(&b, fixture()); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatal("two renderings of the same report differ")
		}
	}
}

func TestOpenOutageNeverPrintedAsFinite(t *testing.T) {
	for _, render := range []func(io.Writer, *Report) error{Markdown, HTML} {
		var b bytes.Buffer
		if err := render(&b, fixture()); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "never recovered within the 60 s window") {
			t.Errorf("open outage not worded as open")
		}
		// The pinned flow's open outage lasted 60 s until the window closed:
		// that number must not appear as its length. (The HTML's bucket
		// tooltips do say "0 to +60.000 s": a time, not a length.)
		for _, bad := range []string{"for 60", "≥", "outage 60", "| 60.000 s"} {
			if strings.Contains(out, bad) {
				t.Errorf("open outage printed as finite %q", bad)
			}
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, bad := range []string{"<script", "http://", "https://", "<link", "src=\"", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains %q: it must be self-contained", bad)
		}
	}
	// One timeline row per flow (4), plus a zoom for the two groups whose
	// outages are too short to see at full scale (tcp-reused, udp-fresh).
	if n := strings.Count(h, `aria-label="timeline of `); n != 6 {
		t.Errorf("want 4 flow timelines and 2 zooms, got %d", n)
	}
	if len(h) > 200_000 {
		t.Errorf("page is %d bytes: timelines are not compact", len(h))
	}
}

func TestJUnitVerdicts(t *testing.T) {
	var b bytes.Buffer
	if err := JUnit(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	x := b.String()
	for _, want := range []string{`failures="2"`, `skipped="1"`, `<skipped message="no node runs systemd-networkd">`, "<failure message=\"worker/udp-pinned never recovered", "<system-out><![CDATA[degraded: "} {
		if !strings.Contains(x, want) {
			t.Errorf("JUnit lacks %q", want)
		}
	}
}

// TestHTMLScreenshot renders the fixture in headless Chromium, 1400 and
// 800 px wide, and checks that the PNGs are not trivial. It runs only with
// NETCHAOS_SCREENSHOT=1 (it needs chromium, see screenshot.mk);
// NETCHAOS_SCREENSHOT_OUT keeps the 1400 px PNG at that path, and the
// 800 px one next to it ("-800" before ".png"), to look at.
func TestHTMLScreenshot(t *testing.T) {
	if os.Getenv("NETCHAOS_SCREENSHOT") != "1" {
		t.Skip("set NETCHAOS_SCREENSHOT=1 to render the report in headless chromium")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("NETCHAOS_SCREENSHOT=1 but no chromium on PATH (make report-screenshot installs it)")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1400, 800} {
		png := filepath.Join(dir, fmt.Sprintf("report-%d.png", width))
		if out := os.Getenv("NETCHAOS_SCREENSHOT_OUT"); out != "" {
			png, _ = filepath.Abs(out)
			if width != 1400 {
				png = strings.TrimSuffix(png, ".png") + fmt.Sprintf("-%d.png", width)
			}
			if err := os.MkdirAll(filepath.Dir(png), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
			"--user-data-dir="+filepath.Join(dir, "profile"), fmt.Sprintf("--window-size=%d,2400", width), "--screenshot="+png, "file://"+page)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
		img, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		// A blank page compresses to a few kB; a rendered report with
		// text, tables and timelines is tens of kB.
		if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) || len(img) < 40_000 {
			t.Fatalf("screenshot %s is %d bytes: not a rendered report", png, len(img))
		}
		t.Logf("screenshot: %s (%d bytes)", png, len(img))
	}
}
