#!/usr/bin/env bash
# The local ClickHouse test cluster: ZooKeeper + 2 shards x 2 replicas of Debian's clickhouse-server, all on
# 127.0.0.1 (DESIGN.md §2). Idempotent and quiet.
#
#   bash scripts/clickhouse-cluster.sh start    install what is missing (apt), start, print the store URL last
#   bash scripts/clickhouse-cluster.sh stop     stop every process it started and remove the cluster's data
#   bash scripts/clickhouse-cluster.sh status   print the store URL if the cluster answers, else exit 1
#   bash scripts/clickhouse-cluster.sh kill N   SIGKILL node N (0-3) and leave the rest running (failure tests)
#   bash scripts/clickhouse-cluster.sh revive N start node N again after a kill (nothing if it runs)
#
# Nodes: node 0 = shard 1 replica 1, node 1 = shard 1 replica 2, node 2 = shard 2 replica 1, node 3 = shard 2
# replica 2. Ports (base $SHOAL_CLUSTER_PORT, default 28100): ZooKeeper base+81; node i: HTTP base+23+i,
# native TCP base+i, interserver base+40+i. ZooKeeper starts first and must answer `ruok` before any node
# starts: a node started before it crashes on its first ON CLUSTER statement.
set -euo pipefail

DIR=${SHOAL_CLUSTER_DIR:-/tmp/shoal-clickhouse-cluster}
BASE=${SHOAL_CLUSTER_PORT:-28100}
CLUSTER=shoal
DATABASE=shoal
ZK_PORT=$((BASE + 81))
NODES=4

http_port() { echo $((BASE + 23 + $1)); }
tcp_port() { echo $((BASE + $1)); }
interserver_port() { echo $((BASE + 40 + $1)); }
store_url() { echo "clickhouse://127.0.0.1:$(http_port 0)/$DATABASE?cluster=$CLUSTER"; }

install() {
    if command -v clickhouse-server >/dev/null && [ -f /usr/share/java/zookeeper.jar ]; then
        return
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "clickhouse-cluster: clickhouse-server and zookeeper are missing (needs root and apt-get)" >&2
        exit 1
    fi
    # Keep the packages' own services from starting on their default ports.
    local policy=/usr/sbin/policy-rc.d added=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends clickhouse-server clickhouse-client zookeeper >/dev/null
    if [ -n "$added" ]; then rm -f "$policy"; fi
}

four_letters() { exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf '%s' "$1" >&3 && timeout 2 cat <&3; exec 3>&-; }

wait_for() { # description, seconds, command...
    local what=$1 seconds=$2
    shift 2
    for _ in $(seq $((seconds * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "clickhouse-cluster: $what did not come up within ${seconds}s (logs in $DIR)" >&2
    exit 1
}

# `ruok` answers as soon as the process runs; `srvr` names a mode only once it serves sessions. A node that
# connects before that fails its handshake and then crashes on its first ON CLUSTER statement.
zk_ok() { [ "$(four_letters ruok 2>/dev/null)" = imok ] && four_letters srvr 2>/dev/null | grep -q '^Mode: '; }

node_ok() { curl -sf "http://127.0.0.1:$(http_port "$1")/ping" >/dev/null; }

# The node has a working ZooKeeper session (what replication and ON CLUSTER statements need).
node_zk_ok() {
    curl -sf "http://127.0.0.1:$(http_port "$1")/" --data-binary "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null
}

# Up = the process this script started is alive and answers (not some other process on the port).
zk_up() { alive "$DIR/zookeeper/pid" && zk_ok; }
node_up() { alive "$DIR/node$1/pid" && node_ok "$1"; }

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
    local port
    for port in "$ZK_PORT" $(for node in $(seq 0 $((NODES - 1))); do
        echo "$(http_port "$node") $(tcp_port "$node") $(interserver_port "$node")"
    done); do
        if port_taken "$port"; then
            echo "clickhouse-cluster: port $port is in use (another cluster? set SHOAL_CLUSTER_PORT)" >&2
            exit 1
        fi
    done
}

start_zookeeper() {
    mkdir -p "$DIR/zookeeper/data"
    cat >"$DIR/zookeeper/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DIR/zookeeper/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
EOF
    cat >"$DIR/zookeeper/log4j.properties" <<EOF
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$DIR/zookeeper/zookeeper.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d %p %c: %m%n
EOF
    nohup java -Xmx256m -Dzookeeper.log.dir="$DIR/zookeeper" -Dlog4j.configuration="file:$DIR/zookeeper/log4j.properties" \
        -cp "$DIR/zookeeper:/usr/share/java/zookeeper.jar" org.apache.zookeeper.server.ZooKeeperServerMain \
        "$DIR/zookeeper/zoo.cfg" >"$DIR/zookeeper/stdout.log" 2>&1 &
    echo $! >"$DIR/zookeeper/pid"
    wait_for ZooKeeper 60 zk_up
}

replica_xml() { # node
    echo "<replica><host>127.0.0.1</host><port>$(tcp_port "$1")</port></replica>"
}

write_node_config() { # node
    local node=$1 folder="$DIR/node$1"
    mkdir -p "$folder/data" "$folder/tmp" "$folder/user_files" "$folder/format_schemas"
    cat >"$folder/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$folder/server.log</log>
        <errorlog>$folder/error.log</errorlog>
        <size>10M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$(http_port "$node")</http_port>
    <tcp_port>$(tcp_port "$node")</tcp_port>
    <interserver_http_port>$(interserver_port "$node")</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$folder/data/</path>
    <tmp_path>$folder/tmp/</tmp_path>
    <user_files_path>$folder/user_files/</user_files_path>
    <format_schema_path>$folder/format_schemas/</format_schema_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <remote_servers>
        <$CLUSTER>
            <shard><internal_replication>true</internal_replication>$(replica_xml 0)$(replica_xml 1)</shard>
            <shard><internal_replication>true</internal_replication>$(replica_xml 2)$(replica_xml 3)</shard>
        </$CLUSTER>
    </remote_servers>
    <zookeeper>
        <node><host>127.0.0.1</host><port>$ZK_PORT</port></node>
        <session_timeout_ms>6000</session_timeout_ms>
    </zookeeper>
    <macros>
        <shard>0$((node / 2 + 1))</shard>
        <replica>r$((node % 2 + 1))</replica>
    </macros>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
}

start_node() { # node
    local folder="$DIR/node$1"
    nohup clickhouse-server --config-file="$folder/config.xml" >"$folder/stdout.log" 2>&1 &
    echo $! >"$folder/pid"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    install
    if zk_up && node_up 0; then
        store_url
        return
    fi
    stop_processes
    rm -rf "$DIR"
    check_ports_free
    mkdir -p "$DIR"
    start_zookeeper
    for node in $(seq 0 $((NODES - 1))); do
        write_node_config "$node"
        start_node "$node"
    done
    for node in $(seq 0 $((NODES - 1))); do
        wait_for "ClickHouse node $node" 60 node_up "$node"
        wait_for "ZooKeeper session of node $node" 60 node_zk_ok "$node"
    done
    store_url
}

stop_processes() { # SIGKILL: the data is removed with them, there is nothing to flush
    [ -d "$DIR" ] || return 0
    local file pid pids=()
    for file in "$DIR"/node*/pid "$DIR/zookeeper/pid"; do
        if alive "$file"; then
            pid=$(cat "$file")
            kill -9 "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$file"
    done
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    done
}

case "${1:-}" in
start) start ;;
stop)
    stop_processes
    rm -rf "$DIR"
    ;;
status)
    node_up 0 && store_url
    ;;
kill)
    kill -9 "$(cat "$DIR/node${2:?node number}/pid")"
    ;;
revive)
    if ! node_up "${2:?node number}"; then
        start_node "$2"
        wait_for "ClickHouse node $2" 60 node_up "$2"
        wait_for "ZooKeeper session of node $2" 60 node_zk_ok "$2"
    fi
    ;;
*)
    echo "usage: $0 start|stop|status|kill N|revive N" >&2
    exit 2
    ;;
esac
