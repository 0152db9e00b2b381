#!/usr/bin/env bash
# Install the real daemons the collector tests scan on loopback (tests/collect/launchers.py), the DNS server
# they resolve with, and nmap, whose XML the importer tests read and which bench/fidelity.py runs beside
# `shoal scan` (Debian packages; PostgreSQL is usually preinstalled). Idempotent and quiet: does nothing when
# every binary is present. Never starts a service. Also the servers of the local ClickHouse test cluster
# (scripts/clickhouse-cluster.sh), whose native port the collector tests scan too. chrony (the NTP server of
# the UDP tests) is unpacked, not installed: installing it would remove systemd-timesyncd.
set -euo pipefail
declare -A PACKAGE_OF=(
    [/usr/sbin/nginx]=nginx
    [/usr/sbin/sshd]=openssh-server
    [/usr/bin/redis-server]=redis-server
    [/usr/sbin/vsftpd]=vsftpd
    [/usr/sbin/mosquitto]=mosquitto
    [/usr/sbin/telnetd]=inetutils-telnetd
    [/usr/sbin/unbound]=unbound
    [/usr/bin/nmap]=nmap
    [/usr/sbin/clickhouse-server]=clickhouse-server  # the local test cluster (scripts/clickhouse-cluster.sh)
    [/usr/bin/clickhouse-client]=clickhouse-client
    [/usr/share/java/zookeeper.jar]=zookeeper
    [/usr/sbin/dovecot]=dovecot-imapd
    [/usr/lib/dovecot/pop3-login]=dovecot-pop3d
    [/usr/sbin/exim4]=exim4-daemon-light
    [/usr/sbin/slapd]=slapd
    [/usr/sbin/smbd]=samba
    [/usr/sbin/xrdp]=xrdp
    [/usr/bin/Xtigervnc]=tigervnc-standalone-server
    [/usr/bin/Xvfb]=xvfb
    [/usr/sbin/cupsd]=cups
    [/usr/sbin/squid]=squid
    [/usr/bin/rsync]=rsync
    [/usr/bin/prosody]=prosody
    [/usr/sbin/ngircd]=ngircd
    [/usr/bin/beanstalkd]=beanstalkd
    [/usr/lib/nut/upsd]=nut-server
    [/usr/bin/svnserve]=subversion
    [/usr/bin/memcached]=memcached
    [/usr/sbin/mariadbd]=mariadb-server
    [/usr/lib/rabbitmq/bin/rabbitmq-server]=rabbitmq-server
    [/usr/sbin/nats-server]=nats-server
    [/usr/bin/etcd]=etcd-server
    [/usr/sbin/dockerd]=docker.io
    [/usr/sbin/kamailio]=kamailio
    [/usr/sbin/danted]=dante-server
    [/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib]=gir1.2-gst-rtsp-server-1.0
    [/usr/lib/python3/dist-packages/gi/__init__.py]=python3-gi
    [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideotestsrc.so]=gstreamer1.0-plugins-base
    # the UDP probes' daemons (tests/collect/udp_daemons.py)
    [/usr/sbin/snmpd]=snmpd
    [/usr/sbin/in.tftpd]=tftpd-hpa
    [/usr/sbin/nmbd]=samba
    [/usr/bin/turnserver]=coturn
    [/usr/sbin/openvpn]=openvpn
    [/usr/lib/ipsec/charon]=strongswan-charon
    [/usr/sbin/swanctl]=strongswan-swanctl
    [/usr/sbin/minissdpd]=minissdpd
)
CHRONY_DIR=/opt/shoal-test-daemons/chrony
missing=()
for binary in "${!PACKAGE_OF[@]}"; do
    [ -e "$binary" ] || missing+=("${PACKAGE_OF[$binary]}")
done
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
fi
unpack_chrony() {
    [ -x /usr/sbin/chronyd ] || [ -x "$CHRONY_DIR/usr/sbin/chronyd" ] && return 0
    local download
    download=$(mktemp -d)
    (cd "$download" && apt-get download -qq -o APT::Sandbox::User=root chrony >/dev/null)
    mkdir -p "$CHRONY_DIR"
    dpkg-deb -x "$download"/chrony_*.deb "$CHRONY_DIR"
    rm -rf "$download"
    # its libraries (Depends of the package, which are no time daemon and conflict with nothing)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        libcap2 libedit2 libgnutls30 libnettle8 libseccomp2 >/dev/null
}
if [ ${#missing[@]} -eq 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        unpack_chrony
    fi
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-test-daemons: missing ${missing[*]} (needs root and apt-get)" >&2
    exit 1
fi
# Keep the packages' own services from starting on their default ports (they would take the tests' ports).
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
fi
trap 'if [ -n "$added_policy" ]; then rm -f "$policy"; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
unpack_chrony
