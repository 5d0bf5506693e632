"""Child processes: shelling out to git, ffmpeg, ImageMagick or anything else.

Workers have no processes. node:child_process is a stub (native from compatibility date 2026-03-17: every call
throws `The child_process.<name> method is not implemented`; before that wrangler injects unenv's stub, which
throws `[unenv] child_process.<name> is not implemented yet!`); Python Workers (Pyodide) raise
`OSError: [Errno 138] emscripten does not support processes`. In a Container the binary runs if it is in the
image.

Two rules share the logic here: `subprocess-git-cli` (the command is git, or a git library that drives the git
binary) and `subprocess-exec` (any other program; the remedy depends on the program).

Valid (no finding from these classes):
    import { connect } from 'cloudflare:sockets'          # not a process
    import git from 'isomorphic-git'; await git.clone({ fs, http, dir: '/tmp/r', url })
    subprocess  # the bare word in a comment or string
Invalid:
    execSync('git rev-parse HEAD')            -> subprocess-git-cli
    spawn('ffmpeg', ['-i', src, out])         -> subprocess-exec (Media Transformations or a Container)
    subprocess.run(["convert", a, b])         -> subprocess-exec (Cloudflare Images or a Container)
    git.Repo.clone_from(url, "/srv/x")        -> subprocess-git-cli
"""
from __future__ import annotations

from functools import lru_cache

import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Arg, Call, FileFacts

# ------------------------------------------------------------------------------------------ what runs a process
# qualified name pattern -> how to find the program: "cmd" (arg 0 is a shell command line), "file" (arg 0 is the
# program, the arguments follow), "file1" (arg 1 is the program: os.spawnlp(mode, file, ...)), "attr" (the program
# is the last name: sh.git(...), plumbum.cmd.ffmpeg[...]), "none" (cannot tell).
JS_RUNNERS: list[tuple[str, str]] = [
    ("child_process.exec", "cmd"), ("child_process.execSync", "cmd"),
    ("child_process.spawn", "file"), ("child_process.spawnSync", "file"),
    ("child_process.execFile", "file"), ("child_process.execFileSync", "file"),
    ("child_process.fork", "none"),
    ("execa", "file"), ("execa.default", "file"), ("execa.execa", "file"), ("execa.execaSync", "file"),
    ("execa.sync", "file"), ("execa.execaNode", "none"),
    ("execa.execaCommand", "cmd"), ("execa.execaCommandSync", "cmd"), ("execa.command", "cmd"),
    ("execa.commandSync", "cmd"), ("execa.$", "none"), ("execa.$.sync", "none"),
    ("shelljs.exec", "cmd"), ("shelljs.default.exec", "cmd"),
    ("cross-spawn", "file"), ("cross-spawn.sync", "file"), ("cross-spawn.spawn", "file"),
    ("zx.$", "none"),
]
PY_RUNNERS: list[tuple[str, str]] = [
    ("subprocess.run", "cmd"), ("subprocess.call", "cmd"), ("subprocess.check_call", "cmd"),
    ("subprocess.check_output", "cmd"), ("subprocess.Popen", "cmd"), ("subprocess.getoutput", "cmd"),
    ("subprocess.getstatusoutput", "cmd"),
    ("os.system", "cmd"), ("os.popen", "cmd"),
    ("os.execl", "file"), ("os.execle", "file"), ("os.execlp", "file"), ("os.execlpe", "file"),
    ("os.execv", "file"), ("os.execve", "file"), ("os.execvp", "file"), ("os.execvpe", "file"),
    ("os.spawnl", "file1"), ("os.spawnle", "file1"), ("os.spawnlp", "file1"), ("os.spawnlpe", "file1"),
    ("os.spawnv", "file1"), ("os.spawnve", "file1"), ("os.spawnvp", "file1"), ("os.spawnvpe", "file1"),
    ("os.posix_spawn", "file"), ("os.posix_spawnp", "file"),   # os.fork / os.forkpty: py-os-fork (runtime-api)
    ("asyncio.create_subprocess_exec", "file"), ("asyncio.create_subprocess_shell", "cmd"),
    ("asyncio.subprocess.create_subprocess_exec", "file"), ("asyncio.subprocess.create_subprocess_shell", "cmd"),
    ("pexpect.spawn", "cmd"), ("pexpect.run", "cmd"), ("pexpect.popen_spawn.PopenSpawn", "cmd"),
    ("sh.Command", "file"), ("sh.*", "attr"),
    ("plumbum.cmd.*", "attr"), ("plumbum.local[]*", "none"), ("plumbum.local.cmd.*", "attr"),
    # libraries that run ffmpeg for you (the program is known from the call: "prog:NAME")
    ("discord.FFmpeg*", "prog:ffmpeg"), ("disnake.FFmpeg*", "prog:ffmpeg"), ("nextcord.FFmpeg*", "prog:ffmpeg"),
    ("pydub.AudioSegment.from_file", "prog:ffmpeg"), ("pydub.AudioSegment.from_mp3", "prog:ffmpeg"),
    ("pydub.AudioSegment.from_ogg", "prog:ffmpeg"), ("pydub.AudioSegment.from_flv", "prog:ffmpeg"),
    ("whisper.load_audio", "prog:ffmpeg"), ("whisper.audio.load_audio", "prog:ffmpeg"),
    ("ffmpeg.probe", "prog:ffprobe"), ("ffmpeg.run", "prog:ffmpeg"), ("ffmpeg.run_async", "prog:ffmpeg"),
    ("moviepy.editor.VideoFileClip", "prog:ffmpeg"), ("moviepy.editor.AudioFileClip", "prog:ffmpeg"),
    ("moviepy.VideoFileClip", "prog:ffmpeg"), ("moviepy.AudioFileClip", "prog:ffmpeg"),
]
# Libraries that drive the git binary.
JS_GIT_LIBS = ("simple-git", "simple-git.default", "simple-git.simpleGit", "simple-git.gitP")
PY_GIT_LIBS = ("git.Repo", "git.Repo.clone_from", "git.Repo.init", "git.Git", "git.cmd.Git", "git.repo.Repo",
               "git.repo.base.Repo", "git.Repo.clone_from().*")
# Prefix programs that run the next word.
WRAPPER_PROGRAMS = {"sudo", "env", "nice", "nohup", "time", "command", "exec", "npx", "xvfb-run"}
SHELL_PROGRAMS = {"sh", "bash", "zsh", "/bin/sh", "/bin/bash", "cmd", "cmd.exe", "powershell", "pwsh"}

# Globs (fnmatchcase) over every name runner_kind() or is_git_lib() accepts, so every call that can give a finding:
# a name_matches() prefix pattern `x*` becomes the glob `x*` (broader: the glob also lets a `()` follow the
# prefix), an exact name stays exact; `*`, `?` and `[` in a name are escaped (`plumbum.local[]*`).
CALLS: tuple[str, ...] = tuple(dict.fromkeys(
    re.sub(r"([*?[])", r"[\1]", p[:-1]) + "*" if p.endswith("*") else re.sub(r"([*?[])", r"[\1]", p)
    for p in [q for q, _ in JS_RUNNERS + PY_RUNNERS] + list(JS_GIT_LIBS) + list(PY_GIT_LIBS)))

# Program families and what replaces them. (label, docs, remediation)
FAMILIES: list[tuple[set[str], str, tuple[str, ...], str]] = [
    ({"ffmpeg", "ffprobe", "avconv", "HandBrakeCLI"}, "video/audio processing",
     ("https://developers.cloudflare.com/stream/transform-videos/", "https://developers.cloudflare.com/containers/"),
     "Resize, clip, extract frames or audio with Cloudflare Stream Media Transformations (URL or Workers binding), "
     "upload to Stream for encoding, or keep ffmpeg in a Container."),
    ({"convert", "magick", "mogrify", "identify", "composite", "montage", "gm", "vips", "vipsthumbnail", "cwebp",
      "dwebp", "pngquant", "optipng", "jpegoptim", "gifsicle", "exiftool", "heif-convert", "avifenc"},
     "image processing",
     ("https://developers.cloudflare.com/images/", "https://developers.cloudflare.com/containers/"),
     "Resize and convert images with Cloudflare Images (transformations via URL or the Images binding), use a "
     "WebAssembly image library for small images, or keep the tool in a Container."),
    ({"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell",
      "wkhtmltopdf", "wkhtmltoimage", "phantomjs", "firefox"}, "a headless browser",
     ("https://developers.cloudflare.com/browser-rendering/", "https://developers.cloudflare.com/containers/"),
     "Render pages, screenshots and PDFs with Browser Rendering (@cloudflare/puppeteer or @cloudflare/playwright "
     "with a browser binding, or its REST API), or run the browser in a Container."),
]
GENERIC_REMEDY = ("Replace the program with an HTTP API called with fetch(), a JavaScript/WebAssembly library or a "
                  "Cloudflare binding; if the binary is essential, run this part in a Container (reached from the "
                  "Worker through a Durable Object).")
GENERIC_DOCS = ("https://developers.cloudflare.com/containers/",)


def name_matches(qname: str, pattern: str) -> bool:
    """Exact name, or a prefix when the pattern ends with `*` (names may hold `[]`, so no fnmatch here). A prefix
    never matches past a call: `sh.sleep().wait` is a method of the running command, not a second command."""
    if pattern.endswith("*"):
        return qname.startswith(pattern[:-1]) and "()" not in qname[len(pattern) - 1:]
    return qname == pattern


def runner_kind(call: Call, language: str) -> str | None:
    """How the program is named for a call that starts a process, or None when the call starts none."""
    if call.kind not in ("call", "new"):
        return None
    return _runner_kind(call.qname, language == "python")


@lru_cache(maxsize=1 << 16)
def _runner_kind(qname: str, python: bool) -> str | None:
    for pat, how in (PY_RUNNERS if python else JS_RUNNERS):
        if name_matches(qname, pat):
            return how
    return None


def _literal(a: Arg | None, depth: int = 0) -> str | None:
    """The known leading text of an argument: a literal, a template's prefix, a constant it is bound to."""
    if a is None or depth > 8:
        return None
    if a.kind == "string":
        return a.value or ""
    if a.kind == "template":
        if a.value:
            return a.value
        return _literal(a.inner[0], depth + 1) if a.inner else None
    if a.kind == "concat" and a.inner:
        return _literal(a.inner[0], depth + 1)
    if a.kind == "identifier" and a.bound is not None:
        return _literal(a.bound, depth + 1)
    return None


def _first_word(text: str) -> str:
    words = text.strip().split()
    while words and (words[0] in WRAPPER_PROGRAMS or "=" in words[0]):
        words = words[1:]
    if len(words) >= 3 and words[0] in SHELL_PROGRAMS and words[1] in ("-c", "-lc", "/c"):
        return _first_word(" ".join(words[2:]).strip("'\""))
    return words[0].rsplit("/", 1)[-1] if words else ""


def program_of(call: Call, how: str) -> str | None:
    """The program a process-starting call runs, when the source says so."""
    if how == "attr":
        name = re.sub(r"(\[\]|\(\))+", "", call.qname)
        for prefix in ("plumbum.local.cmd.", "plumbum.cmd.", "sh."):
            if name.startswith(prefix):
                return name[len(prefix):].split(".")[0] or None
        return None
    if how == "none":
        return None
    if how.startswith("prog:"):
        return how[5:]
    idx = 1 if how == "file1" else 0
    a = call.args[idx] if idx < len(call.args) else call.kwargs.get("args")
    depth = 0
    while a is not None and a.kind == "identifier" and a.bound is not None and depth < 8:
        a, depth = a.bound, depth + 1
    if a is None:
        return None
    if a.kind == "array":
        # subprocess.run(["git", "status"]) / spawn(["git"]): the program is the first element
        first = _literal(a.inner[0]) if a.inner else None
        return _first_word(first) or None if first else None
    text = _literal(a)
    if text is None or not text.strip():
        return None
    if how == "cmd":
        return _first_word(text) or None
    return text.strip().split()[0].rsplit("/", 1)[-1]


def is_git_lib(call: Call, language: str) -> bool:
    if call.kind not in ("call", "new"):
        return False
    libs = PY_GIT_LIBS if language == "python" else JS_GIT_LIBS
    return any(name_matches(call.qname, p) for p in libs)


def _how_it_fails(call: Call, facts: FileFacts, ctx: RuleContext) -> str:
    """The runtime's answer to this call, by language and compatibility date."""
    if facts.language == "python":
        return "Python Workers (Pyodide) raise `OSError: [Errno 138] emscripten does not support processes`"
    method = call.qname.rsplit(".", 1)[-1] if call.qname.startswith("child_process.") else "spawn"
    if not ctx.settings.nodejs_compat():
        return ("without nodejs_compat wrangler cannot even resolve `child_process` (the build fails: "
                "Could not resolve \"child_process\")")
    if ctx.settings.compatibility_date < "2026-03-17":
        return (f"at compatibility date {ctx.settings.compatibility_date} wrangler bundles unenv's stub, which "
                f"throws `[unenv] child_process.{method} is not implemented yet!`")
    return (f"node:child_process is a stub there and the call throws `Error: The child_process.{method} method is "
            "not implemented`")


def _hit(call: Call, message: str | None = None, remediation: str | None = None,
         docs: tuple[str, ...] = ()) -> Hit:
    return Hit(call.line, call.column, call.end_line, call.snippet, call.symbol, message=message, guard=call.guard,
               top_level=call.top_level, remediation=remediation, extra_docs=docs)


class GitCli:
    """`subprocess-git-cli`: git run as a command, or a library that drives the git binary."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        lang = facts.language
        on_worker = ctx.target in ("workers", "python-workers", "durable-objects")
        for c in facts.calls:
            how = runner_kind(c, lang)
            if how is not None:
                if program_of(c, how) != "git":
                    continue
                if on_worker:
                    msg = f"Runs the git CLI in a child process; a Worker has no processes and no git binary: " \
                          f"{_how_it_fails(c, facts, ctx)}."
                else:
                    msg = "Runs the git CLI in a child process; this works in a Container if git is installed in " \
                          "the image (and the clone lives on the container's ephemeral disk)."
                hits.append(_hit(c, msg))
            elif is_git_lib(c, lang):
                lib = "simple-git" if lang != "python" else "GitPython"
                if on_worker:
                    msg = (f"Uses {lib}, which runs the git binary in a child process; a Worker has no processes: "
                           f"{_how_it_fails(c, facts, ctx)}.")
                else:
                    msg = f"Uses {lib}, which runs the git binary; this works in a Container if git is installed " \
                          "in the image."
                hits.append(_hit(c, msg))
        return hits


class ShellOut:
    """`subprocess-exec`: any other program started as a child process (and zx / execa `$` shell templates)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        lang = facts.language
        on_worker = ctx.target in ("workers", "python-workers", "durable-objects")
        for c in facts.calls:
            how = runner_kind(c, lang)
            if how is None:
                continue
            prog = program_of(c, how)
            if prog == "git":
                continue  # subprocess-git-cli
            family = next((f for f in FAMILIES if prog in f[0]), None) if prog else None
            what = f"`{prog}`" if prog else "an external program"
            if c.qname == "child_process.fork":
                what = "a Node.js child process"
            if family is not None:
                what += f" ({family[1]})"
            if on_worker:
                msg = f"Runs {what} as a child process; a Worker has no processes or binaries: " \
                      f"{_how_it_fails(c, facts, ctx)}."
            else:
                msg = f"Runs {what} as a child process; this works in a Container if the program is installed in " \
                      "the image."
            hits.append(_hit(c, msg, family[3] if family else None, family[2] if family else ()))
        if lang != "python":
            for imp in facts.imports:
                if imp.type_only:
                    continue
                if imp.module in ("zx", "zx/core", "zx/globals") or (imp.module == "execa" and "$" in imp.names):
                    lib = "zx" if imp.module.startswith("zx") else "execa's `$`"
                    msg = (f"Imports {lib}, whose $`command` templates run shell commands in child processes; "
                           "a Worker has no shell or processes (node:child_process is a stub).") if on_worker else \
                        f"Imports {lib} to run shell commands; this works in a Container if the programs are in " \
                        "the image."
                    hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard, message=msg,
                                    top_level=imp.top_level))
        return hits
