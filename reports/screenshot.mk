# make report-screenshot [HTML=_out/report/report.html] [PNG=_out/report/report.png]
# Renders a report page in headless Chromium (installed from Debian when missing) to look at it.
HTML ?= $(REPORT_DIR)/report.html
PNG ?= $(basename $(HTML)).png
.PHONY: report-screenshot
report-screenshot:
	@command -v chromium >/dev/null || { echo "[screenshot] installing chromium"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
	@test -f $(HTML) || { echo "report-screenshot: $(HTML) does not exist" >&2; exit 2; }
	@d=$$(mktemp -d); chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
	  --user-data-dir=$$d --window-size=1400,$${HEIGHT:-2400} --screenshot=$(abspath $(PNG)) file://$(abspath $(HTML)) 2>/dev/null; \
	  rc=$$?; rm -rf $$d; test $$rc = 0 && test -s $(PNG) && echo "screenshot: $(PNG)"
