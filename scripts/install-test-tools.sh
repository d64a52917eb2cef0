#!/bin/sh
# Installs what the etcd v2 compatibility tests drive besides cairn: Debian's etcd 3.4
# (package etcd-server: /usr/bin/etcd, the reference in the differential test) and etcdctl
# (package etcd-client: /usr/bin/etcdctl). Run from "pretest"; a quick no-op when both are
# present. The package's own etcd service is kept from starting (policy-rc.d) and stopped if
# it started anyway, so no stray etcd listens on the default ports; the tests use free ports.
set -eu

if [ -x /usr/bin/etcd ] && [ -x /usr/bin/etcdctl ]; then
  echo "install-test-tools: etcd and etcdctl present ($(/usr/bin/etcd --version | head -n 1)), nothing to do"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-test-tools: /usr/bin/etcd or /usr/bin/etcdctl is missing and this is not root;" >&2
    echo "  install the Debian packages etcd-server and etcd-client (apt-get install etcd-server etcd-client)" >&2
    exit 1
  fi
fi

# Keep the package's postinst from starting the etcd service (invoke-rc.d and deb-systemd-invoke
# both ask policy-rc.d; 101 = "action forbidden"). Only a policy-rc.d we created is removed.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=no
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  CREATED_POLICY=yes
fi
cleanup() { if [ "$CREATED_POLICY" = yes ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
PACKAGES="etcd-server etcd-client"
echo "install-test-tools: installing $PACKAGES with apt-get"
if ! $SUDO apt-get install -y --no-install-recommends $PACKAGES; then
  echo "install-test-tools: install failed; running apt-get update and retrying"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends $PACKAGES
fi

# Should the service have started anyway (a systemd machine ignoring the policy), stop it and
# keep it from starting at boot.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo "install-test-tools: stopping and disabling the etcd systemd service"
  $SUDO systemctl disable --now etcd.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/etcd ]; then
  $SUDO /etc/init.d/etcd stop >/dev/null 2>&1 || true
fi

for bin in /usr/bin/etcd /usr/bin/etcdctl; do
  if [ ! -x "$bin" ]; then echo "install-test-tools: $bin still missing after the install" >&2; exit 1; fi
done
echo "install-test-tools: installed $(/usr/bin/etcd --version | head -n 1)"
