# Included from the top-level Makefile.
#
#   make report-screenshot [HTML=_out/report/report.html] [PNG=<html without .html>.png] [WIDTH=1400] [HEIGHT=2400]
#     renders a report page in headless Chromium, to look at it (the page is
#     laid out for windows 800 px wide and wider: look at WIDTH=800 too).
#   make report-screenshot-test [PNG=_out/report/fixture.png]
#     renders the reports package's synthetic fixture at 1400 and 800 px
#     (the second PNG is <PNG without .png>-800.png) and checks the PNGs
#     are not trivial (TestHTMLScreenshot).
#
# Chromium is installed from Debian when missing (needs root).
REPORT_DIR ?= $(CURDIR)/_out/report
HTML ?= $(REPORT_DIR)/report.html
PNG ?= $(basename $(HTML)).png
WIDTH ?= 1400
HEIGHT ?= 2400
CHROMIUM_FLAGS = --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars

.PHONY: report-screenshot report-screenshot-test chromium
chromium:
	@command -v chromium >/dev/null || { echo "[screenshot] installing chromium"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }

report-screenshot: chromium
	@test -f $(HTML) || { echo "report-screenshot: $(HTML) does not exist (HTML=...)" >&2; exit 2; }
	@d=$$(mktemp -d); chromium $(CHROMIUM_FLAGS) --user-data-dir=$$d --window-size=$(WIDTH),$(HEIGHT) \
	  --screenshot=$(abspath $(PNG)) file://$(abspath $(HTML)) >/dev/null 2>&1; \
	  rc=$$?; rm -rf $$d; test $$rc = 0 && test -s $(PNG) && echo "screenshot: $(PNG)"

report-screenshot-test: chromium
	NETCHAOS_SCREENSHOT=1 NETCHAOS_SCREENSHOT_OUT=$(abspath $(if $(filter command line,$(origin PNG)),$(PNG),$(REPORT_DIR)/fixture.png)) \
	  go test -count=1 -run TestHTMLScreenshot -v ./reports
