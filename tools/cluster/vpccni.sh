#!/usr/bin/env bash
# The AWS VPC CNI's own CNI plugins, from amazon-vpc-cni-k8s's Go module (the
# version tools/vpccni/go.mod requires, v1.20.0), and the stand-in ipamd that
# serves them off AWS (tools/vpccni/cmd/ipamd-standin), built static into
# $OUT/vpccni/bin:
#   aws-cni         cmd/routed-eni-cni-plugin: veth, /32 address, host route, ip rules 512 and 1536
#   egress-cni      cmd/egress-cni-plugin: second in EKS's 10-aws.conflist; in an IPv4 cluster
#                   it is called but disabled ("enabled": "false") and passes the result through
#   ipamd-standin   the CNIBackend gRPC service the plugin dials (127.0.0.1:50051)
# All three are one go build in tools/vpccni's module, whose build list is the
# VPC CNI's own go.mod (same versions, same replaces), so the packages they
# share compile once. See tools/vpccni/README.md.
#   vpccni.sh build   build (skipped when built from the same inputs)
#   vpccni.sh test    build, then tools/vpccni/netns-test.sh and t3-netns-test.sh (root; network
#                     namespaces only)
source "$(dirname "$0")/lib.sh"
SRC=$ROOT/tools/vpccni
VBIN=$OUT/vpccni/bin
MOD=github.com/aws/amazon-vpc-cni-k8s

inputs_key() { # the go version, this script (its flags) and every file of the module that goes into the binaries
  { go version; md5sum <"$HERE/vpccni.sh"; (cd "$SRC" && find . -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort | xargs md5sum); } |
    md5sum | cut -c1-12
}

build() {
  local key t0 tmp v
  key=$(inputs_key)
  if [ "$(cat "$VBIN/.key" 2>/dev/null)" = "$key" ] && [ -x "$VBIN/aws-cni" ] && [ -x "$VBIN/egress-cni" ] && [ -x "$VBIN/ipamd-standin" ]; then
    return 0
  fi
  v=$(cd "$SRC" && go list -m -f '{{.Version}}' "$MOD") || die "tools/vpccni/go.mod does not require $MOD"
  log vpccni "go build aws-cni egress-cni ipamd-standin ($MOD $v)"
  t0=$(date +%s)
  mkdir -p "$OUT/vpccni"
  tmp=$(mktemp -d "$OUT/vpccni/build.XXXX")
  (cd "$SRC" && fetching "$OUT/vpccni/build.log" env CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$tmp/" \
    "$MOD/cmd/routed-eni-cni-plugin" "$MOD/cmd/egress-cni-plugin" ./cmd/ipamd-standin) ||
    { tail -20 "$OUT/vpccni/build.log" >&2; rm -rf "$tmp"; die "building the VPC CNI plugins failed (log: $OUT/vpccni/build.log)"; }
  mkdir -p "$VBIN"
  mv "$tmp/routed-eni-cni-plugin" "$VBIN/aws-cni"
  mv "$tmp/egress-cni-plugin" "$VBIN/egress-cni"
  mv "$tmp/ipamd-standin" "$VBIN/ipamd-standin"
  rm -rf "$tmp"
  echo "$key" >"$VBIN/.key"
  log vpccni "built in $(( $(date +%s) - t0 )) s: $(cd "$VBIN" && du -h aws-cni egress-cni ipamd-standin | awk '{printf "%s %s  ", $2, $1}')"
}

# locked: one build at a time (lab.sh's pattern), so that a second caller
# waits for the build under way and then finds it done.
locked() { ( flock 9; "$@" ) 9>"$OUT/vpccni.lock"; }

case ${1:-} in
  build) locked build ;;
  test) locked build; VPCCNI_BIN=$VBIN "$SRC/netns-test.sh"; VPCCNI_BIN=$VBIN "$SRC/t3-netns-test.sh" ;;
  *) die "usage: vpccni.sh build | test" ;;
esac
