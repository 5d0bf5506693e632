"""Fact extraction: aliases, destructuring, promises, chains, TypeScript, CommonJS and ESM, Python imports."""
from cfcompat.analyzer.parsing.facts import FileFacts
from cfcompat.analyzer.parsing.javascript import extract_js
from cfcompat.analyzer.parsing.python import extract_python


def js(src: str, path: str = "src/a.js") -> FileFacts:
    lang = "typescript" if path.endswith((".ts", ".tsx")) else "javascript"
    return extract_js(src.encode(), FileFacts(path, lang, "runtime"))


def py(src: str) -> FileFacts:
    return extract_python(src.encode(), FileFacts("app/a.py", "python", "runtime"))


def qnames(f: FileFacts) -> list[str]:
    return [c.qname for c in f.calls]


def test_destructured_require_alias():
    f = js("const {writeFileSync: w} = require('fs');\nw('a', 'b')\n")
    assert "fs.writeFileSync" in qnames(f)
    assert f.imports[0].module == "fs" and f.imports[0].kind == "require"


def test_namespace_import_node_prefix_and_promises():
    f = js("import * as fs from 'node:fs';\nawait fs.promises.writeFile('x', 'y')\n", "src/a.ts")
    assert "fs/promises.writeFile" in qnames(f)
    assert f.imports[0].module == "fs"


def test_default_import_of_fs_promises_and_named_alias():
    f = js("import fsp from 'fs/promises';\nimport { appendFile as af } from 'node:fs/promises';\n"
           "fsp.mkdir('d'); af('f', 'x')\n")
    assert {"fs/promises.mkdir", "fs/promises.appendFile"} <= set(qnames(f))


def test_promisify_wrapper_and_chained_require():
    f = js("const util = require('util');\nconst exec = util.promisify(require('child_process').exec);\n"
           "async function h() { await exec('git status') }\n")
    call = next(c for c in f.calls if c.qname == "child_process.exec")
    assert not call.top_level and call.symbol == "h"


def test_instances_from_calls_and_new():
    f = js("const express = require('express');\nconst app = express();\napp.listen(3000)\n"
           "import Database from 'better-sqlite3';\nconst db = new Database('a.db');\ndb.prepare('x')\n")
    assert "express().listen" in qnames(f)
    assert "better-sqlite3().prepare" in qnames(f)
    new = next(c for c in f.calls if c.kind == "new")
    assert new.qname == "better-sqlite3" and new.args[0].value == "a.db"


def test_multiline_call_reports_start_line_and_end_line():
    f = js("const fs = require('fs')\nfs.writeFileSync(\n  'out.txt',\n  data\n)\n")
    c = next(c for c in f.calls if c.qname == "fs.writeFileSync")
    assert (c.line, c.end_line) == (2, 5)


def test_comments_and_strings_give_no_facts():
    f = js("const fs = require('fs')\n// fs.writeFileSync('x')\nconst s = \"fs.writeFileSync('y')\"\n"
           "/* fs.rmSync('z') */\n")
    assert qnames(f) == []


def test_type_only_imports_are_marked():
    f = js("import type { Database } from 'better-sqlite3';\nimport { type Foo, bar } from './x';\n", "a.ts")
    assert f.imports[0].type_only is True


def test_typescript_import_equals_require():
    f = js("import fs = require('fs');\nfs.rmSync('x')\n", "a.ts")
    assert "fs.rmSync" in qnames(f)


def test_template_literal_prefix_kept():
    f = js("const fs = require('fs');\nfs.writeFileSync(`/tmp/${id}.json`, 'x')\n")
    a = f.calls[0].args[0]
    assert a.kind == "template" and a.value == "/tmp/"


def test_js_guards():
    f = js("if (require.main === module) { app.listen(3000) }\n"
           "if (process.env.NODE_ENV !== 'production') { fs.writeFileSync('x') }\n"
           "try { require('sharp') } catch (e) {}\n")
    guards = {c.qname: c.guard for c in f.calls}
    assert "require.main" in guards["app.listen"]
    assert "development-only" in guards["fs.writeFileSync"]
    assert "try/catch" in f.imports[0].guard


def test_forever_loop_with_sleep():
    f = js("async function poll() { while (true) { await sleep(1000); await check() } }\n")
    assert "@forever-loop-with-sleep" in qnames(f)
    g = js("while (queue.length) { queue.pop() }\n")
    assert "@forever-loop-with-sleep" not in qnames(g)


def test_python_aliases_and_from_imports():
    f = py("import os.path as osp\nfrom pathlib import Path as P\nimport shutil\n"
           "def f():\n    P('x').write_text('y')\n    shutil.rmtree(osp.join('a', 'b'))\n")
    assert {"pathlib.Path().write_text", "shutil.rmtree", "os.path.join"} <= set(qnames(f))
    c = next(c for c in f.calls if c.qname == "pathlib.Path().write_text")
    assert c.symbol == "f" and not c.top_level


def test_python_path_division_and_open_mode():
    f = py("from pathlib import Path\nBASE = Path(__file__).parent\n(BASE / 'x.json').write_text('{}')\n"
           "with open('out.txt', mode='a') as fh:\n    fh.write('x')\n")
    assert "pathlib.Path().parent.write_text" in qnames(f)
    o = next(c for c in f.calls if c.qname == "open")
    assert o.kwargs["mode"].value == "a"
    assert "open().write" in qnames(f)


def test_python_decorators_resolved_once():
    f = py("from apscheduler.schedulers.background import BackgroundScheduler\ns = BackgroundScheduler()\n"
           "@s.scheduled_job('cron', hour=3)\ndef job(): pass\n")
    decs = [c for c in f.calls if "scheduled_job" in c.qname]
    assert len(decs) == 1 and decs[0].kind == "decorator"
    assert decs[0].qname == "apscheduler.schedulers.background.BackgroundScheduler().scheduled_job"
    assert decs[0].kwargs["hour"].value == "3"


def test_python_main_guard():
    f = py("import uvicorn\nif __name__ == '__main__':\n    uvicorn.run('app:app')\n")
    assert "__main__" in f.calls[0].guard


def test_python_strings_and_comments_give_no_facts():
    f = py("# open('x', 'w')\ns = \"open('x', 'w')\"\n'''shutil.rmtree('/')'''\n")
    assert qnames(f) == []


def test_python_forever_loop():
    f = py("import time\nwhile True:\n    poll()\n    time.sleep(5)\n")
    assert "@forever-loop-with-sleep" in qnames(f)


def test_broken_source_still_yields_facts():
    f = js("const fs = require('fs');\nconst x = ;\nfs.writeFileSync('x', 'y')\n")
    assert f.parse_errors >= 1
    assert "fs.writeFileSync" in qnames(f)


def test_values_are_converted_as_of_their_assignment():
    """Values become arguments' `bound` lazily, but see what was assigned before them, as if converted at
    the assignment: a name reassigned from itself sees its older value, a later reassignment is not seen."""
    f = py("from pathlib import Path\nimport os\nBASE = '/srv/app'\np = Path(BASE)\np = p / 'data'\n"
           "name = 'a.json'\ntarget = os.path.join(p, name)\nname = 'later.json'\n"
           "def save():\n    open(target, 'w')\n")
    call = next(c for c in f.calls if c.qname == "open")
    target = call.args[0].bound
    assert target is not None and target.kind == "call" and target.value == "os.path.join"
    p_arg, name_arg = target.inner
    assert p_arg.bound is not None and p_arg.bound.kind == "concat"          # p = p / 'data'
    older = p_arg.bound.inner[0].bound                                       # ... whose p is Path(BASE)
    assert older is not None and older.value == "pathlib.Path" and older.inner[0].bound.value == "/srv/app"
    assert name_arg.bound is not None and name_arg.bound.value == "a.json"   # not the later 'later.json'


def test_function_parameter_shadows_a_module_value_in_lazy_conversion():
    f = js("const fs = require('fs');\nconst dir = '/tmp/x';\nconst out = dir + '/a';\n"
           "function save(dir) { fs.writeFileSync(out, 'x'); fs.writeFileSync(dir, 'y'); }\n")
    w1, w2 = [c for c in f.calls if c.qname == "fs.writeFileSync"]
    assert w1.args[0].bound is not None and w1.args[0].bound.inner[0].bound.value == "/tmp/x"   # module dir
    assert w2.args[0].bound is None                                                             # the parameter


def test_python_class_resolves_to_its_library_base():
    f = py("from discord.ext import commands\nimport threading\n"
           "class ShopBot(commands.Bot):\n    pass\nclass Mixin:\n    pass\nclass Child(Mixin, ShopBot):\n    pass\n"
           "class Worker(threading.Thread):\n    pass\nclass Err(ValueError):\n    pass\n"
           "bot = Child(command_prefix='!')\nbot.run('t')\nWorker().start()\nErr('x')\n")
    q = qnames(f)
    assert "discord.ext.commands.Bot().run" in q and "threading.Thread().start" in q
    assert "Err" in q                      # an exception class is not bound to its base
    assert {c.name: c.bases for c in f.classes}["Child"] == ["Mixin", "ShopBot"]
    assert f.exports["Child"] == "discord.ext.commands.Bot"


def test_python_settings_and_class_attributes_become_assigns():
    f = py("import os\nDEBUG = True\nlower = 1\nDATABASES = {'default': {'ENGINE': 'x'}}\n"
           "app.conf.beat_schedule = {}\napp.config['SECRET_KEY'] = 'k'\n"
           "class Config:\n    URI = os.environ.get('U')\n    items = []\n    name = 'n'\n"
           "def f():\n    INSIDE = 1\n")
    got = {a.target: a.scope for a in f.assigns}
    assert got == {"DEBUG": "", "DATABASES": "", "app.conf.beat_schedule": "", 'app.config["SECRET_KEY"]': "",
                   "Config.URI": "Config", "Config.items": "Config"}
    db = next(a for a in f.assigns if a.target == "DATABASES")
    assert db.value.props["default"].props["ENGINE"].value == "x"


def test_python_class_container_writes_and_their_traps():
    f = py("class A:\n    seen = {}\n    own = []\n    def __init__(self):\n        self.own = []\n"
           "    def add(self, k):\n        self.seen[k] = 1\n        self.own.append(k)\n"
           "    @classmethod\n    def reg(cls, k):\n        cls.seen.setdefault(k, 2)\n        A.seen.pop(k)\n"
           "def outside(k):\n    A.seen[k] = 3\n")
    writes = [(c.line, c.args[0].value, c.args[1].value) for c in f.calls if c.qname == "@class-attr-write"]
    assert writes == [(7, "A.seen", "self"), (11, "A.seen", "cls"), (12, "A.seen", "class"), (14, "A.seen", "class")]


def test_python_global_rebound_by_a_job_is_state_but_not_by_a_loader():
    f = py("RATES = {'EUR': 1}\nNAME = 'x'\nasync def refresh():\n    global RATES\n    RATES = {}\n"
           "def load_config():\n    global NAME\n    NAME = 'y'\n")
    assert [(s.name, s.kind, s.writes) for s in f.state] == [("RATES", "global", [5])]


def test_python_bot_command_is_not_a_cli_command():
    f = py("import subprocess\nimport click\nfrom discord.ext import commands\nbot = commands.Bot()\n"
           "@bot.command()\nasync def deploy(ctx):\n    subprocess.run(['git', 'pull'])\n"
           "@click.group()\ndef cli():\n    pass\n@cli.command()\ndef build():\n    subprocess.run(['make'])\n")
    runs = {c.line: c.guard for c in f.calls if c.qname == "subprocess.run"}
    assert runs[7] == "" and "command-line" in runs[13]
