"""The Python extractor's fast paths (`resolve_dotted`, `skip_plain`) read plain `a.b.c` callees from their text
instead of walking their nodes. They must give exactly the facts the node walk gives: every fixture, a set of
awkward cases, and generated programs are extracted both ways and compared through the cache encoding (every
field of every fact)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfcompat.analyzer.caching.facts import encode
from cfcompat.analyzer.parsing import python as P
from cfcompat.analyzer.parsing.facts import FileFacts
from cfcompat.analyzer.engine import keep_patterns

ROOT = Path(__file__).resolve().parents[1]


def _facts(src: bytes, fast: bool, keep) -> str:
    old = P.FAST_PATHS
    P.FAST_PATHS = fast
    try:
        return encode(P.extract_python(src, FileFacts(path="m.py", language="python", role="runtime"), keep))
    finally:
        P.FAST_PATHS = old


def _same(src: bytes) -> None:
    for keep in (keep_patterns(), None):
        assert _facts(src, True, keep) == _facts(src, False, keep), src.decode("utf-8", "replace")


AWKWARD = [
    # instance attributes bound in the class, through self and cls, and a rebound `self`
    "import subprocess\nclass C:\n    def __init__(self):\n        self.run = subprocess.run\n"
    "    def go(self):\n        self.run(['ls'])\n        cls.run('x')\n        self.other.run()\n",
    "self = object()\nself.x.y()\n",
    # a name bound to `self` is not `self` (the `~` of instance calls goes by the chain's head)
    "class K:\n    def m(self):\n        me = self\n        me.run()\n        selfie = self\n        selfie.run.go()\n",
    # typed parameters make a name a pathlib.Path inside their function only
    "from pathlib import Path\ndef save(dest: Path, n: int):\n    dest.write_text('x')\n    dest.parent.mkdir()\n"
    "def other(dest):\n    dest.write_text('y')\n",
    # aliases, relative and local imports (linkable names), dynamic imports
    "from os import system as run\nimport os.path as osp\nfrom . import helpers\nfrom .tasks import job\n"
    "run('ls')\nosp.join('a', 'b')\nhelpers.go()\njob.delay()\n__import__('pickle')\n"
    "import importlib\nimportlib.import_module('json')\n",
    # environment mentions in arguments, and a comment between callee and arguments
    "import os\nfrom os import environ as E\nf(os.environ['A'])\ng(E.get('B'))\nh(x, y=environ)\n"
    "v = (k  # environ\n  (1))\n",
    # writes to module state: mutators through chains, globals, del
    "CACHE = {}\nITEMS = []\nN = 0\ndef w():\n    global N\n    CACHE.setdefault('a', 1)\n"
    "    ITEMS.append(1)\n    CACHE.inner.update(x=1)\n    N += 1\n    del CACHE['a']\n    other.append(2)\n",
    # deep chains (the node walk stops at depth 40), unicode names, keywords as attributes
    "x = " + ".".join(["a"] * 45) + "()\n" + ".".join(["b"] * 39) + "()\n",
    "café.run()\nnaïve = 1\nprint(naïve)\n",
    # decorators (recorded once), decorated functions becoming instances, lambdas, nested scopes
    "from celery import Celery\napp = Celery()\n@app.task(bind=True)\ndef t(self):\n    pass\n"
    "t.delay()\nf = lambda: os.getcwd()\nclass A:\n    class B:\n        def m(self):\n            os.system('x')\n",
    # calls on calls, subscripts, awaits: the node walk handles them, the fast path must step aside
    "import asyncio\nasync def m():\n    await asyncio.sleep(1)\n    a.b()[0].c()\n    (a).b()\n    a[1].b()\n"
    "    f()()\n    a . b ()\n",
    # classes resolved to their library base; class-level containers written through cls, self and the class;
    # settings and configuration targets; a global rebound by an async function
    "from discord.ext import commands\nclass B(commands.Bot):\n    seen = {}\n    items = []\n"
    "    def __init__(self):\n        self.items = []\n    async def on_message(self, m):\n"
    "        self.seen[m.id] = m\n        self.items.append(m)\n        B.seen.setdefault(1, 2)\n"
    "        cls.seen.update(a=1)\n        cls.seen.inner.pop()\n        del B.seen[m.id]\n"
    "class C(B):\n    pass\nC().run('t')\nDATABASES = {'default': {'ENGINE': 'x'}}\napp.conf.beat_schedule = {}\n"
    "app.config['SECRET_KEY'] = 'k'\nV = 1\nasync def up():\n    global V\n    V = 2\n",
    # writes to module state from start-up functions (by name or by decorator) are not state writes
    "CACHE = {}\nasync def lifespan(app):\n    CACHE['m'] = 1\n    CACHE.update(a=1)\n"
    "@app.on_event('startup')\nasync def boot():\n    CACHE.setdefault('x', 1)\ndef handler():\n    CACHE.pop('m')\n",
    # containers on `self` of a class whose one instance is made at module level
    "class M:\n    def __init__(self):\n        self.conns: list = []\n        self.by_id = {}\n"
    "    def add(self, c):\n        self.conns.append(c)\n        self.by_id[c.id] = c\n        self.by_id.x.pop()\n"
    "    def reset(self):\n        self.conns = []\n        del self.by_id[1]\nmanager = M()\n"
    "def handler(c):\n    manager.add(c)\nif __name__ == '__main__':\n    other = M()\n",
    # syntax errors: the fast path is off for the whole file
    "import os\nos.system('x'\ndef (:\n    os.path.join(\n",
]


@pytest.mark.parametrize("src", AWKWARD)
def test_awkward_cases_extract_the_same_both_ways(src: str):
    _same(src.encode())


def test_every_fixture_extracts_the_same_both_ways():
    files = sorted((ROOT / "fixtures").rglob("*.py"))
    assert len(files) > 30
    for path in files:
        _same(path.read_bytes())


def test_fast_path_is_taken_and_skipped_calls_are_right():
    """Not vacuous: on a plain file the fast path takes most calls, and what it records (spans, linkable
    names, state writes) is there."""
    src = (b"import os\nfrom .local import helper\nSTATE = []\n"
           b"def f(x):\n    x.strip()\n    helper.run()\n    STATE.append(1)\n    os.system('ls')\n    len(x)\n")
    taken = []
    real = P._Extractor.skip_plain

    def spy(self, node, fn, text):
        r = real(self, node, fn, text)
        taken.append((text, r))
        return r

    P._Extractor.skip_plain = spy   # type: ignore[method-assign]
    try:
        facts = P.extract_python(src, FileFacts(path="m.py", language="python", role="runtime"), keep_patterns())
    finally:
        P._Extractor.skip_plain = real   # type: ignore[method-assign]
    got = dict(taken)
    assert got[b"x.strip"] and got[b"helper.run"] and got[b"STATE.append"] and got[b"len"]
    assert got[b"os.system"] is False          # a rule matches it: the full path records the call
    assert [c.qname for c in facts.calls] == ["os.system"]
    assert facts.spans["f"] == (5, 9)
    assert ".local.helper.run" in facts.linkable
    assert facts.state[0].name == "STATE" and facts.state[0].writes == [7]


NAMES = ["self", "cls", "selfie", "os", "osp", "subprocess", "CACHE", "helpers", "environ", "Path", "x", "p", "run", "E"]
ATTRS = ["run", "append", "system", "get", "environ", "path", "join", "x", "y", "mkdir", "update", "write_text",
         "parent", "delay", "task"]
HEADER = ("import os\nimport os.path as osp\nimport subprocess\nfrom os import environ as E\nfrom . import helpers\n"
          "from pathlib import Path\nCACHE = {}\n")


@st.composite
def _expr(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["name", "chain", "call", "str", "env"] if depth < 2 else ["name", "str"]))
    if kind == "name":
        return draw(st.sampled_from(NAMES))
    if kind == "chain":
        return ".".join([draw(st.sampled_from(NAMES))] + draw(st.lists(st.sampled_from(ATTRS), min_size=1, max_size=4)))
    if kind == "str":
        return repr(draw(st.sampled_from(["/tmp/x", "ls", "A"])))
    if kind == "env":
        return draw(st.sampled_from(["os.environ['K']", "environ.get('K')", "E['K']"]))
    callee = draw(_expr(depth + 1).filter(lambda e: not e.startswith(("'", '"'))))
    args = draw(st.lists(_expr(depth + 1), max_size=2))
    return f"{callee}({', '.join(args)})"


@st.composite
def _stmt(draw) -> str:
    kind = draw(st.sampled_from(["expr", "assign", "selfassign", "global"]))
    e = draw(_expr())
    if kind == "assign":
        return f"{draw(st.sampled_from(NAMES[2:]))} = {draw(st.sampled_from(['self', e]))}"
    if kind == "selfassign":
        return f"self.{draw(st.sampled_from(ATTRS))} = {e}"
    if kind == "global":
        return "global CACHE"
    return e


@st.composite
def _program(draw) -> str:
    out = [HEADER]
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.lists(_stmt(), min_size=1, max_size=5))
        wrap = draw(st.sampled_from(["module", "def", "typed", "class"]))
        if wrap == "module":
            out += [s for s in body if not s.startswith("global")]
        elif wrap == "def":
            out += ["def f(self):"] + [f"    {s}" for s in body]
        elif wrap == "typed":
            out += ["def g(p: Path, x):"] + [f"    {s}" for s in body]
        else:
            out += ["class C:", "    def m(self):"] + [f"        {s}" for s in body]
    return "\n".join(out) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_program())
def test_generated_programs_extract_the_same_both_ways(src: str):
    _same(src.encode())
