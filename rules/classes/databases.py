"""Database drivers that need logic: the Postgres/MySQL driver versions Hyperdrive requires, and Python drivers
that need raw TCP sockets (which Python Workers do not have).

Facts: Hyperdrive (pooled Postgres/MySQL over the Workers TCP `connect()`) needs `pg` >= 8.13.0 or `postgres`
>= 3.4.4, or `mysql2`/`mysql` (HD-DB); Python Workers have no functional raw sockets (PY-STD).

Valid:
    import { neon } from '@neondatabase/serverless'     # HTTP driver, no TCP
    import type { Pool } from 'pg'                        # erased at build time
    engine = create_engine("sqlite:///:memory:")          # SQLite works in Pyodide's memory
Invalid:
    import { Pool } from 'pg'                              -> postgres-mysql-driver (warning: use Hyperdrive)
    import pymysql                                         -> py-db-socket-driver
    engine = create_engine("postgresql+psycopg://...")     -> py-db-socket-driver
"""
from __future__ import annotations

import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Arg, Call, FileFacts, Import, package_of
from .native import distribution_for_import, pep503, pypi_natives, pyodide_for_date

# npm driver -> (database, minimum version for Hyperdrive or None)
JS_SQL_DRIVERS: dict[str, tuple[str, str | None]] = {
    "pg": ("PostgreSQL", "8.13.0"),
    "postgres": ("PostgreSQL", "3.4.4"),
    "pg-promise": ("PostgreSQL", None),
    "mysql2": ("MySQL", None),
    "mysql": ("MySQL", None),
}

# Python modules that talk to a database or cache over a raw TCP socket -> what they reach
PY_SOCKET_DRIVERS: dict[str, str] = {
    "pymysql": "MySQL", "MySQLdb": "MySQL", "mysql.connector": "MySQL", "aiomysql": "MySQL", "asyncmy": "MySQL",
    "psycopg": "PostgreSQL", "psycopg2": "PostgreSQL", "asyncpg": "PostgreSQL", "pg8000": "PostgreSQL",
    "aiopg": "PostgreSQL", "psycopg_pool": "PostgreSQL",
    "redis": "Redis", "aioredis": "Redis", "valkey": "Valkey",
    "pymongo": "MongoDB", "motor": "MongoDB",
    "cassandra": "Cassandra", "clickhouse_driver": "ClickHouse", "pymssql": "SQL Server", "oracledb": "Oracle",
    "cx_Oracle": "Oracle", "pymemcache": "Memcached", "bmemcached": "Memcached",
}
PY_SOCKET_DRIVERS["IndexedRedis"] = "Redis"
PY_SOCKET_DRIVERS["mongoengine"] = "MongoDB"
# Client and pool constructors of those drivers: where the change is made (the import is reported only when the file
# creates no client). qualified name -> driver module
PY_CLIENTS: dict[str, str] = {
    **{q: "redis" for q in (
        "redis.Redis", "redis.StrictRedis", "redis.from_url", "redis.Redis.from_url", "redis.StrictRedis.from_url",
        "redis.ConnectionPool", "redis.ConnectionPool.from_url", "redis.BlockingConnectionPool",
        "redis.client.Redis", "redis.cluster.RedisCluster", "redis.sentinel.Sentinel",
        "redis.asyncio.Redis", "redis.asyncio.StrictRedis", "redis.asyncio.from_url", "redis.asyncio.Redis.from_url",
        "redis.asyncio.ConnectionPool", "redis.asyncio.ConnectionPool.from_url", "redis.asyncio.cluster.RedisCluster",
        "redis.asyncio.client.Redis")},
    **{q: "aioredis" for q in ("aioredis.from_url", "aioredis.Redis", "aioredis.Redis.from_url",
                               "aioredis.create_redis_pool", "aioredis.create_redis", "aioredis.create_pool")},
    **{q: "valkey" for q in ("valkey.Valkey", "valkey.from_url", "valkey.asyncio.Valkey", "valkey.asyncio.from_url")},
    "IndexedRedis.setDefaultRedisConnectionParams": "IndexedRedis",
    **{q: "psycopg2" for q in ("psycopg2.connect", "psycopg2.pool.SimpleConnectionPool",
                               "psycopg2.pool.ThreadedConnectionPool")},
    **{q: "psycopg" for q in ("psycopg.connect", "psycopg.Connection.connect", "psycopg.AsyncConnection.connect")},
    **{q: "psycopg_pool" for q in ("psycopg_pool.ConnectionPool", "psycopg_pool.AsyncConnectionPool")},
    **{q: "asyncpg" for q in ("asyncpg.connect", "asyncpg.create_pool")},
    **{q: "aiopg" for q in ("aiopg.connect", "aiopg.create_pool")},
    **{q: "pg8000" for q in ("pg8000.connect", "pg8000.native.Connection")},
    **{q: "pymysql" for q in ("pymysql.connect", "pymysql.Connect", "pymysql.connections.Connection")},
    "MySQLdb.connect": "MySQLdb",
    **{q: "mysql.connector" for q in ("mysql.connector.connect", "mysql.connector.pooling.MySQLConnectionPool")},
    **{q: "aiomysql" for q in ("aiomysql.connect", "aiomysql.create_pool")},
    **{q: "asyncmy" for q in ("asyncmy.connect", "asyncmy.create_pool")},
    "pymongo.MongoClient": "pymongo", "motor.motor_asyncio.AsyncIOMotorClient": "motor",
    "mongoengine.connect": "mongoengine",
    **{q: "pymemcache" for q in ("pymemcache.client.base.Client", "pymemcache.Client",
                                 "pymemcache.client.base.PooledClient")},
    "bmemcached.Client": "bmemcached", "cassandra.cluster.Cluster": "cassandra",
    "clickhouse_driver.Client": "clickhouse_driver", "pymssql.connect": "pymssql",
    **{q: "oracledb" for q in ("oracledb.connect", "oracledb.create_pool")}, "cx_Oracle.connect": "cx_Oracle",
}
# Calls that pick a server database by URL or class: (qualified name, where the URL is, fixed database or None)
PY_ENGINES: list[tuple[str, str, str | None]] = [
    ("sqlalchemy.create_engine", "url", None),
    ("sqlalchemy.engine.create_engine", "url", None),
    ("sqlalchemy.ext.asyncio.create_async_engine", "url", None),
    ("sqlmodel.create_engine", "url", None),
    ("tortoise.Tortoise.init", "url", None),
    ("databases.Database", "url", None),
    ("peewee.PostgresqlDatabase", "-", "PostgreSQL"),
    ("peewee.MySQLDatabase", "-", "MySQL"),
    ("playhouse.pool.PooledPostgresqlDatabase", "-", "PostgreSQL"),
    ("playhouse.pool.PooledMySQLDatabase", "-", "MySQL"),
]
# Globs (fnmatchcase) over the calls this module reacts to (PySocketDriver; SqlDriverImport reads imports only).
CALLS: tuple[str, ...] = tuple(e[0] for e in PY_ENGINES) + tuple(PY_CLIENTS)
_SCHEMES = {"postgresql": "PostgreSQL", "postgres": "PostgreSQL", "cockroachdb": "CockroachDB",
            "redshift": "Redshift", "mysql": "MySQL", "mariadb": "MariaDB", "mssql": "SQL Server",
            "oracle": "Oracle", "mongodb": "MongoDB", "redis": "Redis"}
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _version_tuple(spec: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(spec or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def declared_version(ctx: RuleContext, name: str) -> tuple[str, str] | None:
    """(version spec, manifest) of a direct npm dependency, when declared."""
    for d in ctx.dependencies:
        if d.ecosystem == "npm" and d.name == name and d.kind == "direct":
            return d.version, d.manifest
    return None


class SqlDriverImport:
    """`postgres-mysql-driver`: pg / postgres / mysql2 imported; works over TCP through Hyperdrive."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language == "python":
            return []
        hits = []
        for imp in facts.imports:
            if imp.type_only:
                continue
            pkg = package_of(imp.module)
            if pkg not in JS_SQL_DRIVERS:
                continue
            db, minimum = JS_SQL_DRIVERS[pkg]
            msg = None
            if minimum:
                decl = declared_version(ctx, pkg)
                if decl is not None:
                    spec, manifest = decl
                    have = _version_tuple(spec)
                    if have is not None and have < _version_tuple(minimum):  # type: ignore[operator]
                        msg = (f"Imports the {db} driver `{pkg}`, which needs Hyperdrive (pooled {db} over the Workers "
                               f"TCP connect()) and at least {pkg} {minimum} there; {manifest} asks for "
                               f"{pkg} {spec}.")
            hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard, message=msg,
                            top_level=imp.top_level))
        return hits


def _native_blocks(imp: Import, ctx: RuleContext) -> bool:
    """Whether `native-addon-import` already reports this import (compiled package not usable on the target)."""
    dist = distribution_for_import(imp.module)
    entry = pypi_natives().get(pep503(dist))
    if entry is None or entry.get("severity", "blocker") == "ok":
        return False
    if ctx.target == "python-workers":
        pyo = pyodide_for_date(ctx.settings.compatibility_date)
        if dist in pyo.get("packages", {}):
            return False
    return True


def _driver_module(module: str) -> str | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in PY_SOCKET_DRIVERS:
            return key
    return None


def _url_arg(c: Call) -> Arg | None:
    for k in ("url", "db_url"):
        if k in c.kwargs:
            return c.kwargs[k]
    return c.args[0] if c.args else None


def _literal(a: Arg | None) -> str | None:
    depth = 0
    while a is not None and a.kind == "identifier" and a.bound is not None and depth < 8:
        a, depth = a.bound, depth + 1
    if a is None:
        return None
    if a.kind == "string":
        return a.value or ""
    if a.kind == "template" and a.value:
        return a.value
    return None


class PySocketDriver:
    """`py-db-socket-driver`: Python database/cache drivers and engines that need a raw TCP socket."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language != "python":
            return []
        hits: list[Hit] = []
        created: set[str] = set()      # driver modules this file creates a client of (reported there)
        for c in facts.calls:
            mod = PY_CLIENTS.get(c.qname)
            if mod is None or c.kind != "call":
                continue
            created.add(mod)
            db = PY_SOCKET_DRIVERS[mod]
            if c.top_level:
                life = ("it is created once for the process while the module loads, and used by every request "
                        "afterwards")
            elif c.symbol:
                life = f"it is created in `{c.symbol}`"
            else:
                life = "it is created at run time"
            msg = (f"Creates a {db} client or pool with `{mod}` (`{c.qname.rsplit('.', 1)[-1]}`); {life}, but the "
                   f"driver needs a raw TCP socket, which Python Workers do not have, so it cannot connect.")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                            top_level=c.top_level))
        for imp in facts.imports:
            mod = _driver_module(imp.module)
            if mod is None or mod in created or _native_blocks(imp, ctx):
                continue  # reported where the client is created, or by native-addon-import (cannot even install)
            db = PY_SOCKET_DRIVERS[mod]
            msg = (f"Imports `{mod}`, a {db} client that talks over a raw TCP socket; Python Workers have no "
                   "functional raw sockets, so it cannot connect.")
            hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard, message=msg,
                            top_level=imp.top_level))
        for c in facts.calls:
            spec = next((e for e in PY_ENGINES if e[0] == c.qname), None)
            if spec is None or c.kind != "call":
                continue
            qname, where, fixed = spec
            when = (", and it is created at import time, which a Python Worker runs while Cloudflare takes the "
                    "deploy-time memory snapshot") if c.top_level else ""
            if fixed is not None:
                db, driver = fixed, None
            else:
                url = _literal(_url_arg(c))
                if url is None:
                    sev = "warning"
                    msg = (f"Creates a database engine ({qname.rsplit('.', 1)[-1]}) from a URL set at "
                           "run time; if it names a server database (PostgreSQL, MySQL, ...), its driver needs a raw "
                           "TCP socket, which Python Workers do not have (only SQLite in memory works there)" + when + ".")
                    hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                    severity=sev, top_level=c.top_level))
                    continue
                scheme = url.split("://", 1)[0] if "://" in url else ""
                dialect, _, driver = scheme.partition("+")
                db = _SCHEMES.get(dialect.lower())
                if db is None:
                    continue  # sqlite (sqlite-local-file judges files) or unknown
            via = f" through {driver}" if driver else ""
            msg = (f"Connects to {db}{via} ({qname.rsplit('.', 1)[-1]}); the driver needs a raw TCP socket, which "
                   "Python Workers do not have, so no query can run" + when + ".")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                            top_level=c.top_level))
        return hits
