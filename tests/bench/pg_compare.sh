#!/usr/bin/env bash
# tests/bench/pg_compare.sh — the PostgreSQL 15 side of the dangan benchmark comparison.
#
# Builds a private, throw-away PostgreSQL 15 cluster (own initdb, own port, TLS on, fsync'd
# commits), loads N customers shaped like dangan's customer record, then drives it with pgbench
# (one request at a time per connection, prepared statements) over the matrix
# clients x {get, update}. With --dangan-bench it runs dangan-bench for the same point right
# after each pgbench run and prints both plus the ratio. See tests/bench/README.md.
set -euo pipefail

PROG=${0##*/}

usage() {
    cat <<'EOF'
Usage: tests/bench/pg_compare.sh [options]

PostgreSQL side (always run):
  --pg-port PORT          port of the private cluster, 127.0.0.1 only   (default 54329)
  --customers N           rows loaded into customers                    (default 100000)
  --duration S            seconds per measured run                      (default 20)
  --repeat R              runs per point; the median is reported        (default 3)
  --clients LIST          comma-separated connection counts             (default 1,16,64)
  --ops LIST              comma-separated of get,update,update1,ping    (default get,update)
                          ping: the floor of one round trip on each side, no table touched
                          (pgbench 'SELECT 1' against dangan's Ping)
  --jobs J                max pgbench threads (-j = min(J, clients))    (default 2)
  --warmup S              seconds of untimed get load before measuring  (default 5; 0 = none)
  --shared-buffers SIZE   shared_buffers of the cluster                 (default 512MB)
  --workdir DIR           parent of the temp dir holding the cluster    (default $TMPDIR or /tmp)
  --pg-bindir DIR         PostgreSQL 15 binaries              (default /usr/lib/postgresql/15/bin)
  --fsync-test            also run pg_test_fsync in the work dir and report it
  --p99                   also report p99 latency: pgbench logs every transaction (-l) and
                          dangan-bench's .ops[OP].latency_ms.p99 is read
  --keep                  leave the cluster running and its dir in place at exit
  --json-out FILE         also write the JSON summary to FILE
  --json                  stdout carries only the JSON summary (table goes to stderr)

dangan side (optional; interleaved run by run with PostgreSQL):
  --pg-only               run PostgreSQL only (the default when --dangan-bench is absent)
  --dangan-bench CMD      command template run (by bash -c) for the dangan side of each run;
                          placeholders: {op} get|update|ping, {mix} get=100|update=100|ping=100,
                          {conns} connection count, {duration} seconds, {run} run label.
                          Its stdout must be dangan-bench's --json document.
  --dangan-stdin FILE     file fed to CMD's standard input (e.g. the admin password for
                          --password-stdin); default /dev/null
  --dangan-tps-jq EXPR    jq expression giving ops/s from that document ($op is bound)
  --dangan-lat-jq EXPR    jq expression giving mean latency in ms ($op is bound)

  -h, --help              this text

Example (PostgreSQL only, the default matrix):
  tests/bench/pg_compare.sh --pg-only

Example (interleaved with dangan):
  tests/bench/pg_compare.sh --dangan-stdin /tmp/bench/admin.pw --dangan-bench \
    'build/dangan-bench --server 127.0.0.1:7443 --fingerprint SHA256:AB:CD:... --user admin
     --password-stdin --connections {conns} --duration {duration} --pipeline 1 --mix {mix} --json'
EOF
}

die() { echo "$PROG: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- options
PG_PORT=54329
CUSTOMERS=100000
DURATION=20
REPEAT=3
CLIENTS=1,16,64
OPS=get,update
JOBS=2
WARMUP=5
SHARED_BUFFERS=512MB
WORKDIR_PARENT=${TMPDIR:-/tmp}
PG_BINDIR=/usr/lib/postgresql/15/bin
FSYNC_TEST=0
P99=0
KEEP=0
JSON_OUT=
JSON_ONLY=0
PG_ONLY=0
DANGAN_BENCH=
DANGAN_STDIN=/dev/null
# Default extraction: the shape proposed in tests/bench/README.md first, then common variants.
DANGAN_TPS_JQ='[ try .ops[$op].ops_per_s catch null, try .ops[$op].ops_s catch null,
                 try .ops[$op]["ops/s"] catch null, try .operations[$op].ops_per_s catch null,
                 try .[$op].ops_per_s catch null,
                 try ((.ops // .operations) | arrays | .[] | select(.op == $op or .name == $op)
                      | (.ops_per_s // .ops_s)) catch null,
                 try .ops_per_s catch null ] | map(select(type == "number")) | first'
DANGAN_LAT_JQ='[ try .ops[$op].latency_ms.mean catch null, try .ops[$op].latency_ms.avg catch null,
                 try .ops[$op].latency_mean_ms catch null, try .[$op].latency_ms.mean catch null,
                 try ((.ops // .operations) | arrays | .[] | select(.op == $op or .name == $op)
                      | (.latency_ms.mean // .latency_ms.avg)) catch null,
                 try .ops[$op].latency_ms.p50 catch null ] | map(select(type == "number")) | first'

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --pg-port)        need_arg "$@"; PG_PORT=$2; shift 2 ;;
        --customers)      need_arg "$@"; CUSTOMERS=$2; shift 2 ;;
        --duration)       need_arg "$@"; DURATION=$2; shift 2 ;;
        --repeat)         need_arg "$@"; REPEAT=$2; shift 2 ;;
        --clients)        need_arg "$@"; CLIENTS=$2; shift 2 ;;
        --ops)            need_arg "$@"; OPS=$2; shift 2 ;;
        --jobs)           need_arg "$@"; JOBS=$2; shift 2 ;;
        --warmup)         need_arg "$@"; WARMUP=$2; shift 2 ;;
        --shared-buffers) need_arg "$@"; SHARED_BUFFERS=$2; shift 2 ;;
        --workdir)        need_arg "$@"; WORKDIR_PARENT=$2; shift 2 ;;
        --pg-bindir)      need_arg "$@"; PG_BINDIR=$2; shift 2 ;;
        --fsync-test)     FSYNC_TEST=1; shift ;;
        --p99)            P99=1; shift ;;
        --keep)           KEEP=1; shift ;;
        --json-out)       need_arg "$@"; JSON_OUT=$2; shift 2 ;;
        --json)           JSON_ONLY=1; shift ;;
        --pg-only)        PG_ONLY=1; shift ;;
        --dangan-bench)   need_arg "$@"; DANGAN_BENCH=$2; shift 2 ;;
        --dangan-stdin)   need_arg "$@"; DANGAN_STDIN=$2; shift 2 ;;
        --dangan-tps-jq)  need_arg "$@"; DANGAN_TPS_JQ=$2; shift 2 ;;
        --dangan-lat-jq)  need_arg "$@"; DANGAN_LAT_JQ=$2; shift 2 ;;
        -h|--help)        usage; exit 0 ;;
        *)                usage >&2; die "unknown argument: $1" ;;
    esac
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$PG_PORT" && ((PG_PORT >= 1024 && PG_PORT <= 65535)) || die "--pg-port: 1024..65535"
is_uint "$CUSTOMERS" && ((CUSTOMERS >= 1)) || die "--customers: a positive integer"
is_uint "$DURATION" && ((DURATION >= 1)) || die "--duration: a positive integer (seconds)"
is_uint "$REPEAT" && ((REPEAT >= 1)) || die "--repeat: a positive integer"
is_uint "$JOBS" && ((JOBS >= 1)) || die "--jobs: a positive integer"
is_uint "$WARMUP" || die "--warmup: a non-negative integer (seconds)"
[[ $CLIENTS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--clients: a comma-separated list of integers"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a OP_LIST <<<"$OPS"
for c in "${CLIENT_LIST[@]}"; do ((c >= 1 && c <= 200)) || die "--clients: each in 1..200"; done
for op in "${OP_LIST[@]}"; do
    case $op in get|update|update1|ping) ;; *) die "--ops: unknown op '$op' (get, update, update1, ping)";; esac
done
if ((PG_ONLY)) && [[ -n $DANGAN_BENCH ]]; then die "--pg-only and --dangan-bench exclude each other"; fi
[[ -z $DANGAN_BENCH ]] && PG_ONLY=1
if ((!PG_ONLY)); then
    [[ -r $DANGAN_STDIN ]] || die "--dangan-stdin: cannot read $DANGAN_STDIN"
    [[ $DANGAN_BENCH == *"{conns}"* ]] || die "--dangan-bench: the template must contain {conns}"
    [[ $DANGAN_BENCH == *"{mix}"* || $DANGAN_BENCH == *"{op}"* ]] \
        || die "--dangan-bench: the template must contain {mix} or {op}"
fi
MAX_CLIENTS=0
for c in "${CLIENT_LIST[@]}"; do ((c > MAX_CLIENTS)) && MAX_CLIENTS=$c; done
MAX_CONNECTIONS=$((MAX_CLIENTS + 20 > 120 ? MAX_CLIENTS + 20 : 120))

# ---------------------------------------------------------------- tools
SUDO=
if ((EUID != 0)); then SUDO=sudo; fi
pkgs=()
[[ -x $PG_BINDIR/postgres && -x $PG_BINDIR/initdb && -x $PG_BINDIR/pg_ctl && -x $PG_BINDIR/pgbench \
   && -x $PG_BINDIR/psql ]] || pkgs+=(postgresql-15 postgresql-client-15)
[[ -f /usr/share/postgresql/15/extension/pg_prewarm.control ]] || pkgs+=(postgresql-contrib)
command -v openssl >/dev/null || pkgs+=(openssl)
command -v jq >/dev/null || pkgs+=(jq)
command -v runuser >/dev/null || pkgs+=(util-linux)
command -v column >/dev/null || pkgs+=(bsdextrautils)
if ((${#pkgs[@]})); then
    log "installing: ${pkgs[*]} (Debian's postinst may create its default cluster; this script never uses it)"
    $SUDO apt-get update -q >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
fi
for b in postgres initdb pg_ctl pgbench psql; do
    [[ -x $PG_BINDIR/$b ]] || die "$PG_BINDIR/$b missing (is --pg-bindir right?)"
done
PG_VERSION=$("$PG_BINDIR/postgres" --version | awk '{print $3}')
[[ $PG_VERSION == 15.* ]] || log "warning: expected PostgreSQL 15, found $PG_VERSION"

# The cluster must not run as root: as root we run it as the 'postgres' system user (created by
# the postgresql packages) or, if that is missing, as a 'dangan-bench' system user made here.
if ((EUID == 0)); then
    if id postgres >/dev/null 2>&1; then
        PG_OS_USER=postgres
    else
        id dangan-bench >/dev/null 2>&1 \
            || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dangan-bench
        PG_OS_USER=dangan-bench
    fi
    # (cd first: the cluster user may not be able to enter the caller's working directory)
    as_pg() { (cd "${WORK:-/}" && runuser -u "$PG_OS_USER" -- "$@"); }
else
    PG_OS_USER=$(id -un)
    as_pg() { (cd "${WORK:-/}" && "$@"); }
fi

# Is anything already listening on the port?
if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
    die "127.0.0.1:$PG_PORT is in use; choose another with --pg-port"
fi

# ---------------------------------------------------------------- work dir + cleanup
[[ -d $WORKDIR_PARENT ]] || die "--workdir: $WORKDIR_PARENT is not a directory"
WORK=$(mktemp -d "$WORKDIR_PARENT/pg_compare.XXXXXX")
PGDATA_DIR=$WORK/data
SOCK_DIR=$WORK/sock
PG_LOG=$WORK/postgres.log
RUNS=$WORK/runs.jsonl
STARTED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((KEEP)); then
        if ((STARTED)); then
            echo "--keep: cluster left running in $PGDATA_DIR (log $PG_LOG)" >&2
            echo "  connect: PGPASSFILE=$WORK/pgpass psql 'host=127.0.0.1 port=$PG_PORT dbname=dangan_bench user=bench sslmode=require'" >&2
            if ((EUID == 0)); then
                echo "  stop:    runuser -u $PG_OS_USER -- $PG_BINDIR/pg_ctl -D $PGDATA_DIR -m fast stop && rm -rf $WORK" >&2
            else
                echo "  stop:    $PG_BINDIR/pg_ctl -D $PGDATA_DIR -m fast stop && rm -rf $WORK" >&2
            fi
        else
            echo "--keep: work dir left in $WORK" >&2
        fi
    else
        if ((STARTED)); then
            as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 \
                || as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

mkdir -p "$SOCK_DIR" "$WORK/out" "$WORK/sql"
chmod 0700 "$WORK" "$SOCK_DIR"
if ((EUID == 0)); then chown "$PG_OS_USER:" "$WORK" "$SOCK_DIR"; fi
as_pg test -w "$WORK" || die "user $PG_OS_USER cannot write $WORK (pick a --workdir it can reach)"
: >"$RUNS"

# ---------------------------------------------------------------- cluster
log "initdb in $PGDATA_DIR (as $PG_OS_USER)"
as_pg "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -U benchadmin --auth-local=trust --auth-host=reject \
    -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }

# Self-signed ECDSA P-256 certificate, like `dangand init` makes.
as_pg openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$PGDATA_DIR/server.key" -out "$PGDATA_DIR/server.crt" >/dev/null 2>&1
as_pg chmod 0600 "$PGDATA_DIR/server.key"

as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF

# ---- pg_compare.sh ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = $MAX_CONNECTIONS
shared_buffers = '$SHARED_BUFFERS'
# TLS on every TCP connection (pg_hba has hostssl only); TLS 1.2 like dangand.
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
ssl_max_protocol_version = 'TLSv1.2'
# Durable like dangand (SQLite WAL + synchronous=FULL): the commit is fsync'd before the reply.
fsync = on
synchronous_commit = on
full_page_writes = on
# Checkpoints are taken explicitly before each run; keep the timed ones out of the runs.
max_wal_size = '4GB'
checkpoint_timeout = '30min'
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = warning
log_checkpoints = on
EOF
as_pg tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<EOF
# pg_compare.sh: local socket (in a 0700 dir) for setup only; TCP only over TLS, with a password.
local   all  all                  trust
hostssl all  all  127.0.0.1/32    scram-sha-256
EOF

log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT"
STARTED=1
as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null \
    || { tail -n 30 "$PG_LOG" >&2; exit 1; }

# Admin psql: over the private socket, as the cluster's superuser.
adm() { as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U benchadmin "$@"; }

BENCH_PW=$(openssl rand -hex 24)
adm -d postgres <<EOF
CREATE ROLE bench LOGIN PASSWORD '$BENCH_PW';
CREATE DATABASE dangan_bench OWNER bench;
EOF
(umask 077 && printf '127.0.0.1:%s:dangan_bench:bench:%s\n' "$PG_PORT" "$BENCH_PW" >"$WORK/pgpass")

# Every benchmark connection: TCP to 127.0.0.1, TLS required, SCRAM password.
unset PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLCERT PGSSLKEY PGSSLROOTCERT PGTARGETSESSIONATTRS
export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGDATABASE=dangan_bench PGUSER=bench PGSSLMODE=require \
       PGPASSFILE=$WORK/pgpass PGAPPNAME=pg_compare PGCONNECT_TIMEOUT=10
bq() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------- schema + data
log "creating schema and loading $CUSTOMERS customers"
cat >"$WORK/sql/schema.sql" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SET ROLE bench;
-- Shaped like dangan's customer record (field names as docs/cli.md lists them).
CREATE TABLE customers (
    id                 bigint PRIMARY KEY,
    code               text NOT NULL UNIQUE,
    kind               text NOT NULL,
    name               text NOT NULL,
    short_name         text,
    industry           text,
    region             text,
    address            text,
    postcode           text,
    phone              text,
    fax                text,
    email              text,
    website            text,
    founded_on         date,
    registered_capital numeric(18,2),
    shareholders       text,
    bank_name          text,
    bank_account       text,
    nature             text,
    size               text,
    staff_count        integer,
    standing           text,
    main_business      text,
    source             text,
    status             text NOT NULL,
    stage              text,
    tier               char(1) NOT NULL,
    intention          text,
    value              numeric(18,2),
    credit_rating      text,
    owner_id           bigint,
    tags               text,
    notes              text,
    version            bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- Shaped like dangan's audit_log (server/store/store.c), detail as jsonb.
CREATE TABLE audit_log (
    seq       bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    user_id   bigint,
    username  text NOT NULL,
    peer      text NOT NULL,
    action    text NOT NULL,
    entity    text NOT NULL,
    entity_id bigint,
    outcome   text NOT NULL,
    detail    jsonb NOT NULL,
    hash      bytea NOT NULL
);
CREATE INDEX audit_log_by_user ON audit_log (user_id, seq);
CREATE INDEX audit_log_by_action ON audit_log (action, seq);
EOF
adm -d dangan_bench -f "$WORK/sql/schema.sql"

# Deterministic (setseed) realistic rows: Chinese company names, addresses, banks, notes.
cat >"$WORK/sql/load.sql" <<'EOF'
SET ROLE bench;
SELECT setseed(0.20261123) \g /dev/null
WITH l AS (SELECT
    ARRAY['北京','上海','广州','深圳','杭州','成都','武汉','南京','苏州','西安',
          '重庆','天津','长沙','青岛','厦门','宁波','合肥','郑州','济南','沈阳'] AS city,
    ARRAY['010','021','020','0755','0571','028','027','025','0512','029',
          '023','022','0731','0532','0592','0574','0551','0371','0531','024'] AS area,
    ARRAY['华北','华东','华南','华南','华东','西南','华中','华东','华东','西北',
          '西南','华北','华中','华东','华东','华东','华东','华中','华东','东北'] AS region,
    ARRAY['朝阳区','浦东新区','天河区','南山区','西湖区','高新区','洪山区','江宁区','工业园区','雁塔区',
          '渝北区','滨海新区','岳麓区','崂山区','思明区','鄞州区','蜀山区','金水区','历下区','和平区'] AS district,
    ARRAY['100020','200120','510630','518057','310012','610041','430070','211100','215021','710061',
          '401120','300457','410006','266100','361001','315100','230031','450008','250014','110001'] AS postcode,
    ARRAY['华','信','鼎','盛','瑞','丰','远','达','恒','通','宏','泰','金','源','嘉',
          '合','博','创','新','联','天','安','永','昌','兴','隆','中','科','云','海'] AS w,
    ARRAY['hua','xin','ding','sheng','rui','feng','yuan','da','heng','tong','hong','tai','jin','yuan','jia',
          'he','bo','chuang','xin','lian','tian','an','yong','chang','xing','long','zhong','ke','yun','hai'] AS py,
    ARRAY['科技','贸易','实业','电子','物流','建设','医药','食品','机械','化工','软件','咨询','传媒','能源','材料'] AS ind_short,
    ARRAY['信息技术','批发零售','制造业','电子元器件','交通物流','建筑工程','医药健康','食品饮料',
          '装备制造','化学工业','软件服务','商务咨询','文化传媒','能源电力','新材料'] AS industry,
    ARRAY['计算机软硬件技术开发、技术咨询、技术服务；系统集成；数据处理与存储服务',
          '日用百货、五金交电、纺织品、服装鞋帽的批发与零售；货物及技术进出口',
          '金属制品、塑料制品的生产与销售；企业管理咨询；自有房屋租赁',
          '电子元器件、集成电路、通信设备的研发、生产与销售；技术进出口',
          '普通货运、仓储服务（不含危险品）、国内货运代理、供应链管理',
          '房屋建筑工程、市政公用工程、装饰装修工程施工；建筑材料销售',
          '药品批发；医疗器械销售；保健食品销售；医药技术开发与咨询',
          '预包装食品、乳制品、饮料的生产与销售；农副产品收购',
          '通用机械设备、自动化生产线的设计、制造、安装与维修',
          '化工原料及产品（不含危险化学品）销售；涂料、胶粘剂生产',
          '应用软件开发；信息系统运行维护；云计算平台服务；技术转让',
          '企业管理咨询、市场调查、会议及展览服务、商务信息咨询',
          '广告设计、制作、代理、发布；影视节目制作；文化活动策划',
          '光伏发电设备、储能系统的研发与销售；合同能源管理；电力工程',
          '新型建筑材料、复合材料、高分子材料的研发、生产与销售'] AS biz,
    ARRAY['人民路','中山路','建设路','解放路','长江路','黄河路','和平路','新华路','文化路','科技路'] AS road,
    ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴','徐','孙','胡','朱','高'] AS sn,
    ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇','艳','杰','涛','明','超'] AS gn,
    ARRAY['中国工商银行','中国建设银行','中国农业银行','中国银行','交通银行','招商银行','兴业银行','浦发银行'] AS bank,
    ARRAY['有限责任公司','股份有限公司','个人独资企业','合伙企业','外商投资企业','国有企业'] AS nature,
    ARRAY['微型','小型','中型','大型'] AS size,
    ARRAY['优秀','良好','一般','关注'] AS standing,
    ARRAY['展会','转介绍','官网','电话营销','老客户','合作伙伴','广告'] AS source,
    ARRAY['线索','初步接触','需求确认','方案报价','商务谈判','已成交','售后维护'] AS stage,
    ARRAY['高','中','低'] AS intention,
    ARRAY['AAA','AA','A','BBB','BB','B'] AS credit,
    ARRAY['VIP,长期合作','重点跟进','政府项目,招投标','出口,外贸','新客户','长期合作,年度框架协议',''] AS tags
), b AS (
    SELECT i,
           1 + floor(random() * 20)::int AS c,  1 + floor(random() * 30)::int AS w1,
           1 + floor(random() * 30)::int AS w2, 1 + floor(random() * 15)::int AS ind,
           1 + floor(random() * 10)::int AS rd, 1 + floor(random() * 15)::int AS s1,
           1 + floor(random() * 15)::int AS g1, 1 + floor(random() * 15)::int AS s2,
           1 + floor(random() * 15)::int AS g2, random() AS k, random() AS t, random() AS u,
           floor(random() * 90000000)::int + 10000000 AS ph, floor(random() * 900)::int + 1 AS no,
           floor(random() * 12000)::int AS age_days, floor(random() * 800)::int AS touched_days
      FROM generate_series(1, :n) AS i
)
INSERT INTO customers
SELECT b.i,
       'C-' || lpad(b.i::text, 6, '0'),
       CASE WHEN b.k < 0.92 THEN 'company' ELSE 'person' END,
       CASE WHEN b.k < 0.92
            THEN l.city[b.c] || l.w[b.w1] || l.w[b.w2] || l.ind_short[b.ind]
                 || CASE WHEN b.t < 0.75 THEN '有限公司' ELSE '股份有限公司' END
            ELSE l.sn[b.s1] || l.gn[b.g1] || l.gn[b.g2] END,
       l.w[b.w1] || l.w[b.w2] || l.ind_short[b.ind],
       l.industry[b.ind],
       l.region[b.c],
       l.city[b.c] || '市' || l.district[b.c] || l.road[b.rd] || b.no || '号'
           || l.w[b.w2] || l.w[b.w1] || '大厦' || (1 + b.no % 30) || '层',
       l.postcode[b.c],
       CASE WHEN b.k < 0.92 THEN l.area[b.c] || '-' || b.ph ELSE '13' || b.ph || (b.i % 10) END,
       l.area[b.c] || '-' || (b.ph + 1),
       CASE WHEN b.k < 0.92 THEN 'info@' || l.py[b.w1] || l.py[b.w2] || b.i || '.com.cn'
            ELSE 'user' || b.i || '@qq.com' END,
       CASE WHEN b.k < 0.92 THEN 'https://www.' || l.py[b.w1] || l.py[b.w2] || b.i || '.com.cn' END,
       date '1992-01-01' + b.age_days,
       round((b.u * 5000)::numeric, 0) * 10000,
       l.sn[b.s1] || l.gn[b.g1] || ' 60%；' || l.sn[b.s2] || l.gn[b.g2] || ' 40%',
       l.bank[1 + b.i % 8] || l.city[b.c] || l.district[b.c] || '支行',
       '6222' || lpad((b.i::bigint * 7919 + b.ph)::text, 15, '0'),
       l.nature[1 + floor(b.t * 6)::int],
       l.size[1 + floor(b.u * 4)::int],
       floor(b.u * 2000)::int + 3,
       l.standing[1 + floor(b.k * 4)::int],
       l.biz[b.ind],
       l.source[1 + b.i % 7],
       CASE WHEN b.t < 0.70 THEN 'active' WHEN b.t < 0.85 THEN 'prospect'
            WHEN b.t < 0.95 THEN 'dormant' ELSE 'archived' END,
       l.stage[1 + b.i % 7],
       (ARRAY['A','B','C','D'])[1 + floor(b.u * 4)::int],
       l.intention[1 + b.i % 3],
       round((b.t * b.u * 2000000)::numeric, 2),
       l.credit[1 + floor(b.k * 6)::int],
       1 + b.i % 50,
       l.tags[1 + b.i % 7],
       '客户于' || (1992 + b.age_days / 400) || '年经' || l.source[1 + b.i % 7] || '接洽，主要联系人'
           || l.sn[b.s2] || l.gn[b.g1] || '（采购部经理），关注' || l.industry[b.ind]
           || '相关产品与服务；年度采购预算约' || (10 + b.no) || '万元，付款周期30天。下次回访重点：价格、交期与售后服务。',
       1,
       now() - make_interval(days => b.age_days % 2000),
       now() - make_interval(days => b.touched_days)
  FROM b, l;
CREATE INDEX customers_owner ON customers (owner_id);
CREATE INDEX customers_status_tier ON customers (status, tier);
CREATE INDEX customers_region ON customers (region);
CREATE INDEX customers_industry ON customers (industry);
VACUUM (ANALYZE) customers;
EOF
adm -d dangan_bench -v n="$CUSTOMERS" -f "$WORK/sql/load.sql"

prewarm() {
    adm -d dangan_bench -At -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','i')" >/dev/null
}
prewarm
read -r ROWS REL_BYTES REL_PRETTY AVG_ROW SB_BYTES < <(adm -d dangan_bench -At -F ' ' -c "
    SELECT (SELECT count(*) FROM customers),
           pg_total_relation_size('customers'),
           replace(pg_size_pretty(pg_total_relation_size('customers')), ' ', ''),
           (SELECT round(avg(pg_column_size(c.*))) FROM customers c),
           (SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers')")
log "customers: $ROWS rows, $REL_PRETTY with indexes, ~$AVG_ROW bytes/row; shared_buffers $SHARED_BUFFERS"
if ((REL_BYTES * 10 > SB_BYTES * 8)); then
    log "warning: customers ($REL_PRETTY) does not fit comfortably in shared_buffers; raise --shared-buffers"
fi

# What the benchmark connections actually get.
SSL_INFO=$(bq -At -F '|' -c "SELECT version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
SETTINGS_JSON=$(bq -At -c "SELECT json_object_agg(name, setting) FROM pg_settings WHERE name IN
    ('fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers','max_connections',
     'ssl','ssl_min_protocol_version','ssl_max_protocol_version','wal_level','commit_delay','max_wal_size',
     'listen_addresses','port','autovacuum')")
log "TLS: $SSL_INFO; $(jq -r '"fsync=\(.fsync) synchronous_commit=\(.synchronous_commit) full_page_writes=\(.full_page_writes) wal_sync_method=\(.wal_sync_method)"' <<<"$SETTINGS_JSON")"
[[ $SSL_INFO == TLSv1.2* ]] || die "benchmark connection is not TLS 1.2: '$SSL_INFO'"

# ---------------------------------------------------------------- pgbench scripts
cat >"$WORK/sql/get.sql" <<'EOF'
\set id random(1, :nrows)
SELECT * FROM customers WHERE id = :id;
EOF
# The round-trip floor: TLS, protocol and scheduling, no table (dangan's side is its Ping RPC).
echo 'SELECT 1;' >"$WORK/sql/ping.sql"
# One statement that locks and reads the row, updates phone/version/updated_at, and appends the
# audit row with the before/after detail and its SHA-256 -- all in the same transaction.
read -r -d '' UPDATE_STMT <<'EOF' || true
WITH old AS (
    SELECT id, phone, version FROM customers WHERE id = :id FOR UPDATE
), upd AS (
    UPDATE customers AS c
       SET phone = '021-' || CAST(:ph AS text), version = c.version + 1, updated_at = now()
      FROM old
     WHERE c.id = old.id
 RETURNING c.id, c.phone, c.version, c.updated_at
), det AS (
    SELECT upd.id,
           jsonb_build_object('before', jsonb_build_object('phone', old.phone, 'version', old.version),
                              'after',  jsonb_build_object('phone', upd.phone, 'version', upd.version,
                                                           'updated_at', upd.updated_at)) AS detail
      FROM upd JOIN old USING (id)
)
INSERT INTO audit_log (at, user_id, username, peer, action, entity, entity_id, outcome, detail, hash)
SELECT now(), 1, 'admin', '127.0.0.1', 'customer.update', 'customer', det.id, 'ok', det.detail,
       sha256(convert_to(det.id::text || '|' || det.detail::text, 'UTF8'))
  FROM det;
EOF
# update: explicit BEGIN / statement / COMMIT (three round trips, the transaction as an
# application would write it). update1: the same statement alone, autocommit (one round trip,
# PostgreSQL's best case).
{
    printf '\\set id random(1, :nrows)\n\\set ph random(10000000, 99999999)\nBEGIN;\n'
    printf '%s\n' "$UPDATE_STMT"
    printf 'COMMIT;\n'
} >"$WORK/sql/update.sql"
{
    printf '\\set id random(1, :nrows)\n\\set ph random(10000000, 99999999)\n'
    printf '%s\n' "$UPDATE_STMT"
} >"$WORK/sql/update1.sql"

# Check the update script once: one customer row changed, one audit row added.
bq -c "SELECT 1" >/dev/null
"$PG_BINDIR/pgbench" -n -M prepared -c 1 -j 1 -t 1 -D nrows="$CUSTOMERS" -f "$WORK/sql/update.sql" \
    >"$WORK/out/selftest.out" 2>&1 || { cat "$WORK/out/selftest.out" >&2; die "update script failed"; }
read -r A V < <(bq -At -F ' ' -c "SELECT (SELECT count(*) FROM audit_log),
                                         (SELECT count(*) FROM customers WHERE version = 2)")
[[ $A == 1 && $V == 1 ]] || die "update self-test: expected 1 audit row and 1 bumped version, got $A / $V"

# ---------------------------------------------------------------- fsync cost (optional)
FSYNC_JSON=null
if ((FSYNC_TEST)); then
    log "pg_test_fsync in $WORK (same filesystem as the cluster's WAL)"
    as_pg "$PG_BINDIR/pg_test_fsync" -s 2 -f "$WORK/fsync.test" >"$WORK/out/pg_test_fsync.out" 2>&1 || true
    as_pg rm -f "$WORK/fsync.test"
    FSYNC_JSON=$(awk '
        /one 8kB write/ {sec = 1} /two 8kB writes/ {sec = 2} /different write/ {sec = 0}
        sec == 1 && $1 == "fdatasync" {fd1 = $2} sec == 1 && $1 == "open_datasync" {od1 = $2}
        sec == 2 && $1 == "fdatasync" {fd2 = $2}
        END { printf "{\"fdatasync_8k_ops_per_s\": %s, \"fdatasync_2x8k_ops_per_s\": %s, \"open_datasync_8k_ops_per_s\": %s}\n",
                     fd1 == "" ? "null" : fd1, fd2 == "" ? "null" : fd2, od1 == "" ? "null" : od1 }' \
        "$WORK/out/pg_test_fsync.out")
    log "fsync: $FSYNC_JSON"
fi

# ---------------------------------------------------------------- runners
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# Runnable processes other than this sampler, averaged over 1 s, taken just before a run while
# both servers are idle: ~0 on a quiet machine; 1 or more means something else wants the CPUs.
others_busy() {
    local i n sum=0
    for ((i = 0; i < 10; i++)); do
        n=$(awk '/^procs_running/ {print $2}' /proc/stat)
        sum=$((sum + n - 1))
        sleep 0.1
    done
    awk -v s="$sum" 'BEGIN {printf "%.1f", s / 10}'
}
warn_busy() {
    awk -v b="$1" 'BEGIN {exit !(b >= 0.5)}' \
        && log "  warning: $1 other runnable processes before this run; the machine is not quiet" || true
}

# run_pg OP CLIENTS SECONDS LABEL -> appends a JSON line to $RUNS (unless LABEL is "warmup")
run_pg() {
    local op=$1 c=$2 secs=$3 label=$4 j out tps lat failed la0 la1 busy
    j=$((c < JOBS ? c : JOBS))
    out=$WORK/out/pg-$label.out
    adm -d dangan_bench -c "CHECKPOINT" >/dev/null
    busy=$(others_busy)
    [[ $label == warmup ]] || warn_busy "$busy"
    la0=$(loadavg)
    local logargs=() p99=null
    ((P99)) && [[ $label != warmup ]] && logargs=(-l --log-prefix="$WORK/out/pglog-$label")
    if ! "$PG_BINDIR/pgbench" -n -M prepared -c "$c" -j "$j" -T "$secs" -D nrows="$CUSTOMERS" \
            "${logargs[@]}" -f "$WORK/sql/$op.sql" >"$out" 2>&1; then
        tail -n 20 "$out" >&2
        die "pgbench failed ($op, $c clients)"
    fi
    la1=$(loadavg)
    tps=$(awk '/^tps = / {print $3; exit}' "$out")
    lat=$(awk '/^latency average = / {print $4; exit}' "$out")
    failed=$(awk '/^number of failed transactions:/ {print $5; exit}' "$out")
    [[ -n $tps && -n $lat ]] || { cat "$out" >&2; die "cannot parse pgbench output ($out)"; }
    [[ $label == warmup ]] && return 0
    if ((P99)); then # per-transaction log: field 3 is the latency in microseconds
        p99=$(cat "$WORK/out/pglog-$label".* | awk '{print $3}' | sort -n \
            | awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", a[i] / 1000}')
        rm -f "$WORK/out/pglog-$label".*
    fi
    jq -nc --arg op "$op" --argjson c "$c" --arg run "$label" --argjson tps "$tps" --argjson lat "$lat" \
        --argjson failed "${failed:-0}" --argjson la0 "$la0" --argjson la1 "$la1" --argjson j "$j" \
        --argjson busy "$busy" --argjson p99 "$p99" \
        '{side: "pg", op: $op, clients: $c, run: $run, tps: $tps, lat_ms: $lat, p99_ms: $p99, failed: $failed,
          threads: $j, others_runnable_before: $busy, loadavg_before: $la0, loadavg_after: $la1}' >>"$RUNS"
    log "  pg      $op c=$c: $(printf '%10.1f' "$tps") tps  $(printf '%8.3f' "$lat") ms  (load $la0 -> $la1, others $busy)"
}

# run_dangan OP CLIENTS SECONDS LABEL
run_dangan() {
    local op=$1 c=$2 secs=$3 label=$4 dop mix cmd out err tps lat errors la0 la1 rc busy p99
    case $op in get) dop="get" ;; update|update1) dop="update" ;; ping) dop="ping" ;; esac
    mix="$dop=100"
    cmd=${DANGAN_BENCH//\{op\}/$dop}
    cmd=${cmd//\{mix\}/$mix}
    cmd=${cmd//\{conns\}/$c}
    cmd=${cmd//\{duration\}/$secs}
    cmd=${cmd//\{run\}/$label}
    out=$WORK/out/dangan-$label.json
    err=$WORK/out/dangan-$label.err
    busy=$(others_busy)
    [[ $label == warmup ]] || warn_busy "$busy"
    la0=$(loadavg)
    rc=0
    bash -c "$cmd" <"$DANGAN_STDIN" >"$out" 2>"$err" || rc=$?
    la1=$(loadavg)
    if ((rc != 0)); then
        tail -n 20 "$err" >&2
        die "dangan-bench exited $rc ($op, $c connections); command: $cmd"
    fi
    jq -e . "$out" >/dev/null 2>&1 || { head -c 2000 "$out" >&2; die "dangan-bench stdout is not JSON ($out)"; }
    tps=$(jq -r --arg op "$dop" "$DANGAN_TPS_JQ" "$out")
    lat=$(jq -r --arg op "$dop" "$DANGAN_LAT_JQ" "$out")
    errors=$(jq -r --arg op "$dop" '[try .ops[$op].errors catch null, try .errors catch null]
                                    | map(select(type == "number")) | first // 0' "$out" 2>/dev/null || echo 0)
    [[ $tps =~ ^[0-9.eE+-]+$ ]] || { head -c 2000 "$out" >&2; die "no ops/s for '$dop' in dangan-bench JSON; set --dangan-tps-jq"; }
    [[ $lat =~ ^[0-9.eE+-]+$ ]] || lat=null
    p99=$(jq -r --arg op "$dop" 'try .ops[$op].latency_ms.p99 catch null' "$out")
    [[ $p99 =~ ^[0-9.eE+-]+$ ]] || p99=null
    [[ $label == warmup ]] && return 0
    ((${errors%.*} > 0)) && log "  warning: dangan-bench reported $errors errors ($op, $c connections)"
    jq -nc --arg op "$op" --argjson c "$c" --arg run "$label" --argjson tps "$tps" --argjson lat "$lat" \
        --argjson errors "$errors" --argjson la0 "$la0" --argjson la1 "$la1" --arg cmd "$cmd" \
        --argjson busy "$busy" --argjson p99 "$p99" \
        '{side: "dangan", op: $op, clients: $c, run: $run, tps: $tps, lat_ms: $lat, p99_ms: $p99, failed: $errors,
          others_runnable_before: $busy, loadavg_before: $la0, loadavg_after: $la1, command: $cmd}' >>"$RUNS"
    log "  dangan  $op c=$c: $(printf '%10.1f' "$tps") ops/s $( [[ $lat == null ]] && echo '    ?   ' || printf '%8.3f' "$lat") ms  (load $la0 -> $la1, others $busy)"
}

# ---------------------------------------------------------------- matrix
if ((WARMUP > 0)); then
    log "warm-up: ${WARMUP}s of get at 16 connections"
    run_pg get 16 "$WARMUP" warmup
    ((PG_ONLY)) || run_dangan get 16 "$WARMUP" warmup
fi
npoints=$((${#OP_LIST[@]} * ${#CLIENT_LIST[@]}))
per=$((DURATION + 3))
((PG_ONLY)) || per=$((2 * per))
log "matrix: ops {$OPS} x clients {$CLIENTS} x $REPEAT runs x ${DURATION}s -> about $((npoints * REPEAT * per / 60 + 1)) min"
for op in "${OP_LIST[@]}"; do
    for c in "${CLIENT_LIST[@]}"; do
        log "point $op c=$c"
        for ((r = 1; r <= REPEAT; r++)); do
            run_pg "$op" "$c" "$DURATION" "$op-c$c-r$r"
            ((PG_ONLY)) || run_dangan "$op" "$c" "$DURATION" "$op-c$c-r$r"
        done
    done
done

# ---------------------------------------------------------------- summary
SUMMARY=$(jq -s \
    --arg pgv "$PG_VERSION" --argjson port "$PG_PORT" --argjson n "$ROWS" --argjson relb "$REL_BYTES" \
    --argjson avgrow "$AVG_ROW" --arg ssl "$SSL_INFO" --argjson settings "$SETTINGS_JSON" \
    --argjson dur "$DURATION" --argjson rep "$REPEAT" --argjson jobs "$JOBS" --argjson warm "$WARMUP" \
    --argjson fsync "$FSYNC_JSON" --argjson pgonly "$PG_ONLY" --arg tmpl "$DANGAN_BENCH" \
    --arg host "$(uname -srm)" --argjson ncpu "$(nproc)" --arg when "$(date -Iseconds)" \
    --arg fs "$(df -PT "$WORK" | awk 'NR == 2 {print $1 " " $2}')" '
    def median: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def r1: if . == null then null else (. * 10 | round) / 10 end;
    def r3: if . == null then null else (. * 1000 | round) / 1000 end;
    def side($rows): if ($rows | length) == 0 then null else
        { tps_median: ([$rows[].tps] | median | r1),
          lat_ms_median: ([$rows[].lat_ms | select(. != null)] | median | r3),
          p99_ms_median: ([$rows[].p99_ms | select(. != null)] | median | r3),
          tps_runs: [$rows[].tps | r1], lat_ms_runs: [$rows[].lat_ms | r3],
          others_runnable_before: [$rows[].others_runnable_before],
          failed: ([$rows[].failed] | add) } end;
    . as $all
    | { tool: "tests/bench/pg_compare.sh", finished_at: $when,
        host: { uname: $host, cpus: $ncpu, workdir_fs: $fs },
        postgres: { version: $pgv, port: $port, customers: $n, customers_bytes_with_indexes: $relb,
                    avg_row_bytes: $avgrow, tls: $ssl, settings: $settings },
        method: { duration_s: $dur, repeat: $rep, max_threads: $jobs, warmup_s: $warm,
                  pgbench: "-n -M prepared -c C -j min(C,max_threads) -T duration",
                  one_request_in_flight_per_connection: true },
        fsync_test: $fsync,
        dangan_bench_template: (if $pgonly == 1 then null else $tmpl end),
        points: ([$all[] | {op, clients}] | unique_by([.op, .clients]) | map(. as $p
          | ($all | map(select(.op == $p.op and .clients == $p.clients))) as $rows
          | side($rows | map(select(.side == "pg"))) as $pg
          | side($rows | map(select(.side == "dangan"))) as $dg
          | { op: $p.op, clients: $p.clients, pg: $pg, dangan: $dg,
              ratio_dangan_over_pg: (if $dg == null or $pg == null or $pg.tps_median == 0 then null
                                     else ($dg.tps_median / $pg.tps_median * 100 | round) / 100 end) }))
      }' "$RUNS")

# Table in the order the matrix ran.
print_table() {
    local order
    order=$(printf '%s\n' "${OP_LIST[@]}" | jq -R . | jq -sc .)
    {
        if ((PG_ONLY)); then
            echo "op clients pg_tps(median) pg_lat_ms runs(tps)"
        else
            echo "op clients pg_tps(median) pg_lat_ms dangan_ops/s(median) dangan_lat_ms dangan/pg"
        fi
        jq -r --argjson order "$order" --argjson pgonly "$PG_ONLY" '
            .points | sort_by((.op as $o | $order | index($o)), .clients)[]
            | if $pgonly == 1 then
                [.op, .clients, .pg.tps_median, .pg.lat_ms_median, (.pg.tps_runs | map(tostring) | join("/"))]
              else
                [.op, .clients, .pg.tps_median, .pg.lat_ms_median, (.dangan.tps_median // "-"),
                 (.dangan.lat_ms_median // "-"), ((.ratio_dangan_over_pg // "-") | tostring)
                   + (if (.ratio_dangan_over_pg // 0) >= 2 then "x OK" else "x" end)]
              end | map(tostring) | join(" ")' <<<"$SUMMARY"
    } | column -t
}
if ((JSON_ONLY)); then
    print_table >&2
    jq . <<<"$SUMMARY"
else
    echo
    echo "PostgreSQL $PG_VERSION, $ROWS customers, TLS ($SSL_INFO), fsync'd commits; ${DURATION}s x $REPEAT runs per point, median shown"
    print_table
    echo
    jq . <<<"$SUMMARY"
fi
[[ -n $JSON_OUT ]] && jq . <<<"$SUMMARY" >"$JSON_OUT"
exit 0
